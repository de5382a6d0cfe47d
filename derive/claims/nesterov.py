"""Claims B1-B11: is PyTorch's Nesterov incorrect? (article, 2023).

B1, B2 and B6 define forms: they are judged by running the catalogue entry's
program one step and comparing it with the statement's own equations (written
here once, as the claim, in the house time convention: step t uses eps_t, mu_t).
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import get
from derive.claims import claim
from derive.claims.evidence import CONSTANT, EPS, MU, Prose, by_schedule, condition_of, describe, finding, joined, proof_rows
from derive.equivalence import equivalence, inverse_params_map, recovery, translation
from derive.symbols import b, eps, g, grad_f, mu, t, theta, theta_la, v
from derive.unroll import closed_form, iterate

ARTICLE = "article asking whether PyTorch's Nesterov is incorrect (2023)"
NAG, DOC, IMPL = "sutskever_nesterov", "pytorch_nesterov_documented", "pytorch_nesterov_implemented"


def one_step(name: str, **options) -> dict:
    """The catalogue program's step t, with the gradient as nabla_f at its evaluation point."""
    f = get(name, **options)
    before = {s: s[t - 1] for s in f.state}
    return f.step(before, grad_f(f.gradient_point(before)))


def matches(name: str, statement: dict) -> tuple[bool, tuple]:
    got = one_step(name)
    rows = tuple((Prose("program minus statement, ", base[t]), sp.simplify(got[base] - value)) for base, value in statement.items())
    return all(r == 0 for _, r in rows), rows


@claim("B1", source=ARTICLE,
       statement=r"Original (Sutskever eqs. 3-4): $v_{t+1} = \mu v_t - \varepsilon \nabla f(\theta_t + \mu v_t)$, "
                 r"$\theta_{t+1} = \theta_t + v_{t+1}$.",
       reading=r"The catalogue's sutskever_nesterov runs exactly these equations (step $t$: $\varepsilon_t, \mu_t$).",
       expected="holds")
def b1():
    ok, rows = matches(NAG, {v: mu[t] * v[t - 1] - eps[t] * grad_f(theta[t - 1] + mu[t] * v[t - 1]),
                             theta: theta[t - 1] + mu[t] * v[t - 1] - eps[t] * grad_f(theta[t - 1] + mu[t] * v[t - 1])})
    return finding("holds" if ok else "fails", "sutskever_nesterov's step minus eqs. 3-4 simplifies to 0" if ok
                   else "the program differs from eqs. 3-4", rows=rows)


@claim("B2", source=ARTICLE + "; PyTorch documentation note",
       statement=r"PyTorch documentation note: $v_{t+1} = \mu v_t + g_{t+1}$, $\theta_{t+1} = \theta_t - \varepsilon v_{t+1}$, "
                 r"with $g_{t+1}$ the gradient at the shifted point $\theta_t - \varepsilon \mu v_t$.",
       reading="The catalogue's pytorch_nesterov_documented runs exactly these equations.",
       expected="holds")
def b2():
    point = theta[t - 1] - eps[t] * mu[t] * v[t - 1]
    ok, rows = matches(DOC, {v: mu[t] * v[t - 1] + grad_f(point),
                             theta: theta[t - 1] - eps[t] * (mu[t] * v[t - 1] + grad_f(point))})
    return finding("holds" if ok else "fails", "pytorch_nesterov_documented's step minus the note simplifies to 0"
                   if ok else "the program differs from the note", rows=rows)


@claim("B2-nag", source=ARTICLE,
       statement="The documentation's form is Sutskever's Nesterov with the lr moved out of the velocity.",
       reading=r"pytorch_nesterov_documented and sutskever_nesterov give the same parameters ($v = -\varepsilon b$).",
       assumptions=r"$v_0 = 0$; schedules $\varepsilon_t, \mu_t$, or constants.",
       expected="holds under a condition", condition="constant learning rate")
def b2_nag():
    schedule = equivalence(get(NAG), get(DOC), same_params=True)
    constant = equivalence(get(NAG, lr=EPS), get(DOC, lr=EPS), same_params=True)
    return by_schedule(schedule, constant, what="Sutskever NAG → documented PyTorch Nesterov")


@claim("B3", source=ARTICLE,
       statement=r"With $v_0 = 0$, the first update is the same in both: $\theta_1 = \theta_0 - \varepsilon \nabla f(\theta_0)$.",
       reading=r"After one step, B1 and B2 both equal plain gradient descent's first step, gradient at $\theta_0$.",
       assumptions=r"$v_0 = 0$; any $\varepsilon_1, \mu_1$.", expected="holds")
def b3():
    gd = iterate(get("plain_gd"), 1)[theta]
    rows = []
    for name in (NAG, DOC):
        f = get(name)
        point = sp.expand(f.gradient_point(f.initial_state(), 1))
        rows.append((Prose(f"{name}: gradient point at step 1 minus ", theta[0]), point - theta[0]))
        rows.append((Prose(f"{name}: ", theta[1], " minus plain GD's"), sp.expand(iterate(f, 1)[f.params] - gd)))
    ok = all(r == 0 for _, r in rows)
    return finding("holds" if ok else "fails", Prose("both first steps equal plain GD's, gradient at ", theta[0]) if ok
                   else "a first step differs", rows=rows)


@claim("B4", source=ARTICLE,
       statement=r"With a time-varying $\varepsilon_t$ and $v_0 = 0$, the original's parameters are a discounted sum of "
                 r"gradients in which each gradient keeps the $\varepsilon$ at which it entered; PyTorch's rescales the "
                 r"whole accumulated sum by the current $\varepsilon_t$. Give both closed forms.",
       reading=r"Coefficient of $g_k$ in $\theta_T$: B1: $-\varepsilon_k \sum_{j=k}^{T} \prod_{i=k+1}^{j} \mu_i$; B2: "
               r"$-\sum_{j=k}^{T} \varepsilon_j \prod_{i=k+1}^{j} \mu_i$ (gradients as inputs, each at its own point).",
       assumptions=r"$v_0 = 0$; $T = 4$; the closed forms of derive.unroll compared with these sums.",
       expected="holds")
def b4():
    T, rows, ok = 4, [], True
    j, i = sp.symbols("j i", integer=True)
    for name, lr_of in ((NAG, lambda k, jj: eps[k]), (DOC, lambda k, jj: eps[jj])):
        f = get(name)
        cf = closed_form(f, T)
        for k in range(1, T + 1):
            claimed = -sp.Sum(lr_of(k, j) * sp.Product(mu[i], (i, k + 1, j)), (j, k, T)).doit()
            residual = sp.expand(cf.coefficient(f.params, g[k]) - claimed)
            ok &= residual == 0
            rows.append((Prose(f"{name}: coefficient of ", g[k], " in ", theta[T]), sp.factor(cf.coefficient(f.params, g[k]))))
    verdict = "holds" if ok else "fails"
    return finding(verdict, Prose(r"closed forms at $T = 4$: B1 keeps $\varepsilon_k$ on $g_k$; B2 weighs $g_k$ by "
                                   r"$\sum_j \varepsilon_j \prod \mu$")
                   if ok else "a closed-form coefficient differs from the stated sums", rows=rows)


@claim("B5", source=ARTICLE,
       statement="The sign difference between the two (gradient added vs subtracted in v) has no effect when v_0 = 0.",
       reading=r"Momentum with $v \leftarrow \mu v + \varepsilon g$, $\theta \leftarrow \theta - v$ (Caffe's sign) "
               r"gives the same parameters as $v \leftarrow \mu v - \varepsilon g$, $\theta \leftarrow \theta + v$, "
               "for every lr and momentum schedule.",
       assumptions=r"$v_0 = 0$ in both ($V = -v$).", expected="holds")
def b5():
    result = equivalence(get("sutskever_momentum"), get("caffe_sgd", weight_decay=0), same_params=True)
    if result:
        return finding("holds", Prose("exact under any schedule: ", describe(result)), rows=proof_rows(result.rows[-5:]))
    return finding("fails", describe(result), rows=proof_rows(result.rows), witness=result.witness)


@claim("B6", source=ARTICLE,
       statement=r"PyTorch as implemented: $v_{t+1} = \mu v_t + \nabla f(\theta'_t)$, $\theta'_{t+1} = \theta'_t - "
                 r"\varepsilon(\nabla f(\theta'_t) + \mu v_{t+1})$; the gradient is evaluated at the current (stored) parameters.",
       reading=r"The catalogue's pytorch_nesterov_implemented runs these equations from step 2 on (step 1 starts "
               r"the buffer at the first gradient, the same value from $v_0 = 0$); torch itself is judged in B6-torch.",
       expected="holds")
def b6():
    ok, rows = matches(IMPL, {b: mu[t] * b[t - 1] + grad_f(theta_la[t - 1]),
                              theta_la: theta_la[t - 1] - eps[t] * (grad_f(theta_la[t - 1])
                                                                     + mu[t] * (mu[t] * b[t - 1] + grad_f(theta_la[t - 1])))})
    return finding("holds" if ok else "fails", "pytorch_nesterov_implemented's step minus B6 simplifies to 0"
                   if ok else "the program differs from B6", rows=rows)


@claim("B7", source=ARTICLE,
       statement=r"The change of variables $\theta'_t = \theta_t - \varepsilon \mu v_t$ turns B2 into B6 exactly "
                 r"(also judged with a time-varying $\varepsilon_t$).",
       reading=r"Constant $\varepsilon, \mu$: the stated substitution maps B2's trajectory onto B6's. Schedules: search every "
               r"$S_t$ (the gradient point forces $\theta'_t = \theta_t - \varepsilon_{t+1} \mu_{t+1} v_t$).",
       assumptions=r"$v_0 = 0$; gradient as an undefined function; $T = 4$ then induction.",
       expected="holds under a condition", condition="eps_t mu_t constant")
def b7():
    stated = sp.Matrix([[1, -EPS * MU], [0, 1]])
    constant = equivalence(get(DOC, **CONSTANT), get(IMPL, **CONSTANT), substitution=stated)
    forced = sp.Matrix([[1, -eps[t + 1] * mu[t + 1]], [0, 1]])
    search = equivalence(get(DOC), get(IMPL))
    if not search:  # the witness follows the map the gradient point forces
        search = equivalence(get(DOC), get(IMPL), substitution=forced)
    return by_schedule(search, constant, what="B2 → B6")


@claim("B8", source=ARTICLE,
       statement=r"PyTorch's stored parameters are $\theta'$, not $\theta$; $\theta$ is recoverable at every step from "
                 r"$\theta'$ and $v$, but PyTorch applies no correction at the end, so its final output is an "
                 "approximation of the 'actual' parameters.",
       reading=r"(i) $\theta_t = \theta'_t + \varepsilon_{t+1} \mu_{t+1} b_t$ exactly at every step; (ii) $\theta'_T \neq \theta_T$ "
               r"in general (the output differs by $\varepsilon \mu b_T$).",
       assumptions=r"$v_0 = 0$; B2 is the 'actual' iterate.",
       expected="holds under a condition", condition="eps_t mu_t constant")
def b8():
    constant, schedule = recovery(constant=True), recovery(constant=False)
    doc, impl = get(DOC, **CONSTANT), get(IMPL, **CONSTANT)
    rows = [(Prose("schedule: ", describe(schedule)), getattr(schedule, "residual", sp.S.Zero))]
    if not constant:
        return finding("fails", describe(constant), rows=rows, witness=constant.witness)
    back = inverse_params_map(constant, doc, impl)
    rows.append((Prose(theta[t], " from the stored state"), back))
    # (ii): the stored output is not the recovered one: their difference on a concrete run.
    from derive.equivalence import TARGET, witness

    diff = witness(doc, impl, TARGET[t] - theta[t], steps=3, values={EPS: sp.Rational(1, 2), MU: sp.Rational(1, 2)})
    if schedule:
        return finding("holds", Prose("recovery ", back, " exact under any schedule"), rows=rows, witness=diff)
    gap = diff.difference if diff else sp.nan
    return finding("holds under a condition", Prose("constant: ", sp.Eq(theta[t], back, evaluate=False),
                                                    r" exactly, and $\theta'_T - \theta_T = $", gap,
                                                    " on the witness run; schedules: ", describe(schedule)),
                   condition=condition_of(schedule), rows=rows, witness=diff)


@claim("B9", source=ARTICLE,
       statement=r"PyTorch initialises the momentum buffer with the first gradient; this is the same as $v_0 = 0$ "
                 r"(judge also with dampening $\tau \neq 0$).",
       reading=r"torch.optim.SGD (first-gradient buffer) gives the same parameters as the same update from a "
               r"zero buffer (MLX's form), for every schedule; $\tau = 0$ and $\tau$ symbolic.",
       assumptions=r"$\lambda = 0$, no Nesterov.", expected="holds under a condition", condition="tau = 0")
def b9():
    undamped = equivalence(get("mlx_sgd", dampening=0, weight_decay=0),
                           get("pytorch_sgd", dampening=0, weight_decay=0), same_params=True)
    damped = equivalence(get("mlx_sgd", weight_decay=0), get("pytorch_sgd", weight_decay=0), same_params=True)
    rows = ((Prose(r"$\tau = 0$: ", describe(undamped)), sp.S.Zero),
            (Prose(r"$\tau \neq 0$: ", describe(damped)), getattr(damped, "residual", 0)))
    if undamped and not damped:
        return finding("holds under a condition", Prose(r"$\tau = 0$: ", describe(undamped), r"; $\tau \neq 0$: ",
                                                        describe(damped)),
                       condition=Prose(r"$\tau = 0$ (generic residual: ", condition_of(damped), ")"), rows=rows,
                       witness=damped.witness)
    return finding("holds" if undamped else "fails", Prose(r"$\tau = 0$: ", describe(undamped), r"; $\tau$: ",
                                                           describe(damped)), rows=rows)


@claim("B10", source=ARTICLE,
       statement="The first update of the 'actual' parameters under B6 equals B3.",
       reading=r"$\theta_1$ recovered from B6's $(\theta'_1, b_1)$ by the B7 map equals $\theta_0 - \varepsilon \nabla f(\theta_0)$.",
       assumptions=r"constant $\varepsilon, \mu$ (as the source); $v_0 = 0$.", expected="holds")
def b10():
    doc, impl = get(DOC, **CONSTANT), get(IMPL, **CONSTANT)
    proof = recovery(constant=True)
    state = {s: e.xreplace({impl.params[0]: theta[0]}) for s, e in iterate(impl, 1).items()}
    recovered = inverse_params_map(proof, doc, impl, step=1).xreplace({s[1]: state[s] for s in impl.state})
    residual = sp.expand(recovered - iterate(get("plain_gd", lr=EPS), 1)[theta])
    rows = ((Prose("recovered ", theta[1], " minus plain GD's first step"), residual),)
    return finding("holds" if residual == 0 else "fails", Prose("recovered ", theta[1], " minus plain GD's step = ",
                                                                residual), rows=rows)


@claim("B11", source=ARTICLE,
       statement="Counting arithmetic operations per step: B2 takes 7, B6 takes 6; the reformulation saves one "
                 "multiplication.",
       reading="Per element and step, counted from the update programs (look-ahead point included).",
       assumptions="see derive.opcount.CONVENTIONS", expected="holds under a condition",
       condition="every operation as written counts, the scalar product eps mu per element")
def b11():
    from derive.opcount import CONVENTIONS, count

    rows, source = [], None
    for conv in CONVENTIONS.values():
        doc, impl = count(get(DOC, **CONSTANT), conv), count(get(IMPL, **CONSTANT), conv)
        rows.append((f"{conv.name}: B2, B6", f"{doc.total} ({doc.mul} mul), {impl.total} ({impl.mul} mul)"))
        if (doc.total, impl.total, doc.mul - impl.mul) == (7, 6, 1):
            source = source or conv
    if source is None:
        return finding("fails", "no convention gives 7 and 6", rows=rows)
    others = "; ".join(str(r[1]) for r in rows)
    return finding("holds under a condition", f"7 vs 6 and one multiplication saved under '{source.name}'; "
                   f"all conventions: {others}", condition=source.describe(), rows=rows)


@claim("B8-retune", source=ARTICLE + " (the 'actual parameters' under a schedule)",
       statement="Under a time-varying learning rate, torch's Nesterov is still the documented Nesterov (B2) "
                 "with some retuned learning-rate or momentum schedule.",
       reading=r"Search jointly for a schedule $\nu_t$ (B2's lr, then B2's momentum) and any change of variables "
               r"$S_t$ mapping torch's $(\theta', b)$ onto B2's state, for every objective.",
       assumptions=r"$v_0 = 0$; $T = 4$; generic hyperparameters; the searched form: B2 with one schedule "
                   r"replaced by $\nu_t$.",
       expected="holds under a condition", condition="eps_t mu_t constant")
def b8_retune():
    rows, residuals = [], []
    for role in ("lr", "momentum"):
        found = translation(get(IMPL), DOC, role=role, same_params=False)
        rows.append((Prose(f"B2 with {role} ", r"$\nu_t$: ", describe(found.result)),
                     getattr(found.result, "residual", sp.S.Zero)))
        if not found:
            residuals.append(found.result)
    if len(residuals) == 2 and recovery(constant=True):  # with eps mu constant the identity retune works (B7)
        return finding("holds under a condition", Prose("no lr or momentum schedule for B2 reproduces torch's Nesterov: ",
                                                        joined(describe(r) for r in residuals)),
                       condition=condition_of(residuals[0]), rows=rows)
    return finding("holds", Prose("a retuned schedule exists: ", joined(r[0] for r in rows)), rows=rows)
