"""Notebook 1: where the learning rate sits, and what a ReduceLROnPlateau-style drop does."""

NAME = "lr_placement"
TITLE = "Where the learning rate sits: paper placement vs PyTorch placement under an lr drop"


def cells() -> list[tuple[str, str]]:
    return [
        ("markdown", f"""
# {TITLE}

Classical momentum as Sutskever et al. (2013) write it keeps the learning rate inside the velocity;
`torch.optim.SGD` keeps it outside the buffer. Both programs below are printed from the catalogue
(`derive.catalogue`), not typed. The cells assert what the plots show, so running this notebook is a test.
"""),
        ("code", """
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from derive import at_steps, convention_rows, display_rows, effective_momentum, get, latex, trajectory, update_rows
from derive.symbols import eps, t

paper = get("sutskever_momentum")
pytorch = get("pytorch_sgd", dampening=0, weight_decay=0)
for f in (paper, pytorch):
    display(Markdown(f"**{f.title}** ({f.name})"))
    display(Markdown(display_rows(update_rows(f))))
"""),
        ("markdown", """
Written with a paper-style velocity (the change of variables on the first line), PyTorch's program
has a momentum coefficient that involves the learning rates of two consecutive steps:
"""),
        ("code", """
display(Markdown(display_rows(convention_rows(pytorch, "paper"))))
mu_effective = effective_momentum(pytorch, "paper")
display(Markdown(f"Effective momentum in the paper's convention: ${latex(mu_effective)}$"))
# With a constant learning rate (epsilon_{t-1} = epsilon_t) it is the momentum itself (claim D3).
assert sp.simplify(mu_effective.subs(eps[t - 1], eps[t]) - pytorch.hyper["momentum"]) == 0
assert effective_momentum(paper, "paper") is None  # the paper form is already in its own convention
"""),
        ("markdown", """
## A ReduceLROnPlateau-style drop

The learning rate is divided by 10 once (what `ReduceLROnPlateau(factor=0.1)` does when the loss
stalls). Both forms run on derive's quadratic objective from the same start; its gradient:
"""),
        ("code", """
from derive import Quadratic
display(Markdown(f"$\\nabla f(\\theta) = {latex(Quadratic().gradient(sp.Symbol('theta')))}$, here with $h = 1$, $q = 0$"))
"""),
        ("code", """
STEPS, DROP, MOMENTUM = 60, 30, 0.9
lr = [0.1 if step <= DROP else 0.01 for step in range(1, STEPS + 2)]
values = {"lr": lr, "momentum": MOMENTUM}
theta_paper = trajectory(paper, values, STEPS, curvature=1.0)[:, 0]
theta_pytorch = trajectory(pytorch, values, STEPS, curvature=1.0)[:, 0]

# Constant lr before the drop: the two trajectories coincide (claim D3) ...
assert np.allclose(theta_paper[: DROP + 1], theta_pytorch[: DROP + 1], rtol=0, atol=1e-12)
# ... after it they part: PyTorch rescales the whole buffer by the new lr at once.
assert not np.allclose(theta_paper[DROP + 1 :], theta_pytorch[DROP + 1 :], rtol=0, atol=1e-6)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(theta_paper, label=f"{paper.name} (lr inside the velocity)")
ax.plot(theta_pytorch, "--", label=f"{pytorch.name} (lr outside the buffer)")
ax.axvline(DROP, color="grey", lw=0.8)
ax.set_xlabel("step t"); ax.set_ylabel("theta_t"); ax.legend(); ax.set_title("Trajectories around the lr drop")
plt.show()
"""),
        ("markdown", """
## The effective momentum around the drop

Evaluated with the schedule, PyTorch's effective momentum (seen as a paper velocity) equals the
momentum everywhere except at the step of the drop, where the old buffer is scaled down with the
learning rate: the past is forgotten faster, exactly once.
"""),
        ("code", """
steps = np.arange(2, STEPS + 1)
effective = at_steps(mu_effective, pytorch, values, steps)
at_drop = steps == DROP + 1
assert np.allclose(effective[~at_drop], MOMENTUM)
assert effective[at_drop][0] < MOMENTUM

fig, ax = plt.subplots(figsize=(7, 3))
ax.step(steps, effective, where="mid", label="PyTorch placement, as a paper velocity")
ax.axhline(MOMENTUM, color="C1", ls="--", label="paper placement: the momentum itself")
ax.set_xlabel("step t"); ax.set_ylabel("effective momentum"); ax.legend(); ax.set_title("Effective momentum")
plt.show()
"""),
    ]
