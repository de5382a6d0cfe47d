"""Notebook 4: torch.optim.SGD checked live against derive, through verify's sweep.

Registered into derive's notebooks (:func:`derive.render.notebooks.register`) by
verify's built-in plugin, so ``derive notebooks`` writes it where torch is installed.
"""

NAME = "torch_crosscheck"
TITLE = "Cross-checking torch.optim.SGD live against derive"


def cells() -> list[tuple[str, str]]:
    return [
        ("markdown", f"""
# {TITLE}

`verify` drives the installed `torch.optim.SGD` (for-loop, foreach and fused), computes the expected
trajectory from derive's linear system of `pytorch_sgd` with exactly the hyperparameters each step
read, and compares with an argued tolerance (ULPs scaled by steps and operations). Known torch
defects are listed by verify; anything else failing fails this notebook.
"""),
        ("code", """
import torch
from IPython.display import Markdown, display

from verify.sweep import SCENARIOS, check, sweep_configs

print("torch", torch.__version__)
configs = sweep_configs(impls=("for-loop", "foreach", "fused"), dtypes=("float64", "float32"),
                        schedules=("constant", "plateau"), steps=30)
configs = configs[:: max(1, len(configs) // 24)]  # a spread of flag combinations, kept short
outcomes = [check(c) for c in configs] + [check(SCENARIOS[name]) for name in sorted(SCENARIOS)[:6]]
"""),
        ("code", """
lines = ["| configuration | verdict | max ULP | allowed ULP | known defect |", "|---|---|---|---|---|"]
for o in outcomes:
    r = o.report
    lines.append(f"| {r.label} | {'pass' if r.passed else 'FAIL'} | {r.max_ulps:.3g} | "
                 f"{r.max_allowed_ulps:.3g} | {o.known_defect or ''} |")
display(Markdown("\\n".join(lines)))
unexpected = [o.report.describe() for o in outcomes if o.unexpected]
assert not unexpected, unexpected
assert sum(o.report.passed for o in outcomes) > len(outcomes) // 2
"""),
        ("markdown", """
## A deliberately wrong optimizer is rejected

The same comparison, fed the paper-placement formulation while torch runs PyTorch's placement under a
schedule, must fail: the check can tell the two apart.
"""),
        ("code", """
wrong = check(sweep_configs(impls=("for-loop",), dtypes=("float64",), schedules=("plateau",), steps=30,
                            flags=[{"momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
                                    "maximize": False}])[0], formulation="sutskever_momentum")
print(wrong.report.describe())
assert not wrong.report.passed
"""),
    ]
