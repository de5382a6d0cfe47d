"""Notebook 2: Nesterov momentum, original, documented and implemented, and the change of variables."""

NAME = "nesterov"
TITLE = "Nesterov momentum: the original, PyTorch's documented form and its implementation"


def cells() -> list[tuple[str, str]]:
    return [
        ("markdown", f"""
# {TITLE}

Three catalogue entries: Sutskever et al.'s Nesterov (gradient at the look-ahead point), the form
PyTorch's documentation states, and what `torch.optim.SGD(nesterov=True)` computes (it stores the
look-ahead iterate $\\theta'$). Every equation is printed from derive's objects; every claim is asserted.
"""),
        ("code", """
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from derive import change_of_variables, display_rows, expression_rows, get, latex, template_conditions, trajectory, update_rows
from derive.symbols import t

NAMES = ("sutskever_nesterov", "pytorch_nesterov_documented", "pytorch_nesterov_implemented")
for name in NAMES:
    f = get(name)
    display(Markdown(f"**{f.title}** ({name}); {f.citation}"))
    display(Markdown(display_rows(update_rows(f))))
"""),
        ("markdown", """
## The change of variables, constant learning rate and momentum

derive solves for a per-step matrix $S_t$ with $x'_t = S_t x_t$ that maps the documented form's state
onto the implemented one's for every gradient sequence, the gradient taken at the same point.
"""),
        ("code", """
epsilon, mu = sp.symbols("epsilon mu", positive=True)
documented = get("pytorch_nesterov_documented", lr=epsilon, momentum=mu)
implemented = get("pytorch_nesterov_implemented", lr=epsilon, momentum=mu)
proof = change_of_variables(documented, implemented)
assert proof, f"no change of variables: {proof}"
S = proof.S[t]
display(Markdown(f"$S_t = {latex(S)}$"))
failed, rows = template_conditions(documented, implemented, S)
assert failed == [], failed  # every condition's residual is exactly 0
display(Markdown(display_rows(expression_rows(rows))))
"""),
        ("markdown", """
## Under a schedule

With a time-varying learning rate the same search finds no change of variables: the residual below is
the first condition that cannot vanish. The original (Sutskever) and the documented form part too.
"""),
        ("code", """
scheduled = change_of_variables(get("pytorch_nesterov_documented"), get("pytorch_nesterov_implemented"))
assert not scheduled
display(Markdown(f"documented vs implemented, residual of *{scheduled.label}*: ${latex(scheduled.residual)}$"))
original_vs_documented = change_of_variables(get("sutskever_nesterov"), get("pytorch_nesterov_documented"), same_params=True)
assert not original_vs_documented
display(Markdown(f"original vs documented, residual: ${latex(original_vs_documented.residual)}$"))
print("witness:", original_vs_documented.witness)
"""),
        ("markdown", """
## Trajectories under a step schedule

On derive's quadratic objective (gradient printed below) the implemented form's stored parameters
are the documented form's state moved by $S_t$ while the learning rate is constant. The left panel shows
the three forms; the right panel shows, on its own scale, how far the documented form and the stored
parameters of the implemented one are from Sutskever's: the documented form is Sutskever's exactly
until the learning rate drops (a change of variables that holds only for a constant rate), then they part.
"""),
        ("code", """
from derive import Quadratic
display(Markdown(f"$\\nabla f(\\theta) = {latex(Quadratic().gradient(sp.Symbol('theta')))}$, here with $h = 1$, $q = 1/2$"))

STEPS, DROP = 40, 20
values = {"lr": [0.2 if step <= DROP else 0.05 for step in range(1, STEPS + 2)], "momentum": 0.8}
runs = {name: trajectory(get(name), values, STEPS, curvature=1.0, offset=0.5) for name in NAMES}

# Before the drop, x' = S x holds numerically with S evaluated at the step's constants.
S_numeric = np.array(S.subs({epsilon: 0.2, mu: 0.8}).tolist(), dtype=float)
moved = runs["pytorch_nesterov_documented"][1 : DROP + 1] @ S_numeric.T
assert np.allclose(moved, runs["pytorch_nesterov_implemented"][1 : DROP + 1], rtol=0, atol=1e-12)

# The documented form equals Sutskever's while the rate is constant, and differs once it drops.
apart = runs["pytorch_nesterov_documented"][:, 0] - runs["sutskever_nesterov"][:, 0]
assert np.allclose(apart[: DROP + 1], 0, rtol=0, atol=1e-12) and np.abs(apart[DROP + 2 :]).max() > 1e-4
stored = runs["pytorch_nesterov_implemented"][:, 0] - runs["sutskever_nesterov"][:, 0]

fig, (ax, dx) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, x in runs.items():
    ax.plot(x[:, 0], label=name)
ax.axvline(DROP, color="grey", lw=0.8)
ax.set_xlabel("step t"); ax.set_ylabel("stored parameters"); ax.legend(fontsize=7)
ax.set_title("Nesterov forms under a step schedule")
dx.plot(apart, label="documented - Sutskever")
dx.plot(stored, label="implemented (stored) - Sutskever", ls="--")
dx.axvline(DROP, color="grey", lw=0.8); dx.axhline(0, color="black", lw=0.5)
dx.set_xlabel("step t"); dx.set_ylabel("difference"); dx.legend(fontsize=7); dx.set_title("Differences, own scale")
print(f"max |documented - Sutskever| before the drop: {np.abs(apart[: DROP + 1]).max():.1e}, "
      f"after: {np.abs(apart[DROP + 1 :]).max():.3f}")
plt.show()
"""),
    ]
