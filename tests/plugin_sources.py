"""A user's plugin, as source text: written into a temporary directory by the plugin tests of derive and verify."""

import textwrap

USER_PLUGIN = textwrap.dedent('''
    """A user's plugin: a formulation of their own, and a claim about it."""
    from derive.catalogue import entry, get
    from derive.claims import claim, finding
    from derive.equivalence import equivalence
    from derive.formulation import Assign, Formulation
    from derive.hyperparameters import resolve
    from derive.symbols import eps, g, t, theta


    @entry
    def halved_gd(*, lr=None) -> Formulation:
        """Gradient descent that takes half the step."""
        lr = resolve(lr, eps[t], "lr")
        return Formulation(name="halved_gd", title="Half-step gradient descent", citation="a user, 2026",
                           state=(theta,), params=theta, grad_at=theta[t - 1],
                           update=(Assign(theta[t], theta[t - 1] - lr * g[t] / 2),), hyper={"lr": lr})


    @claim("USER-1", source="a user", statement="halved_gd at twice the rate is plain_gd.",
           reading="equal parameters at every step, any schedule", expected="holds")
    def user_1():
        result = equivalence(get("halved_gd", lr=2 * eps[t]), get("plain_gd"), same_params=True)
        return finding("holds" if result else "fails", "equal at every step" if result else "they differ")


    @claim("USER-2", source="a user", statement="halved_gd at the same rate is plain_gd.",
           reading="equal parameters at every step", expected="fails")
    def user_2():
        result = equivalence(get("halved_gd"), get("plain_gd"), same_params=True)
        return finding("fails" if not result else "holds", "they differ" if not result else "equal")
''')
