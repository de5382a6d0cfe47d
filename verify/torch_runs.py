"""Drive the installed ``torch.optim.SGD`` for the interface claims, and derive's exact reference.

Inputs are small dyadic rationals (lr, momentum, dampening, weight decay in
{1/8, ..., 3/4}, integer gradients), so float64 carries every value of a short
run exactly and torch is compared with derive's exact trajectory by equality.
torch is imported inside the functions only (registering the claims needs none).
"""

from __future__ import annotations

from fractions import Fraction


GRADIENTS = ((1, -2, 3), (2, 1, -1), (-3, 2, 2), (1, 1, -2), (2, -1, 1))
THETA0 = (Fraction(1, 2), Fraction(-1, 4), Fraction(2))
LRS = (Fraction(1, 2), Fraction(1, 4), Fraction(1, 8), Fraction(1, 4), Fraction(1, 2))
MOMENTA = (Fraction(1, 2), Fraction(3, 4), Fraction(1, 2), Fraction(1, 4), Fraction(3, 4))


def torch_module():
    """torch, imported when a claim is judged (the plugin registers the claims only where it is installed)."""
    import torch

    return torch


def reference(f, values: dict, gradients=GRADIENTS, theta0=THETA0) -> list[list[dict]]:
    """Exact states of *f* per step and element, from its linear-system view (exact rationals)."""
    from derive.numeric import as_sympy, run

    initial = {s: list(theta0) if s == f.params else f.init.get(s, 0) for s in f.state}
    x = run(f, values, len(gradients), gradients=gradients, initial=initial, exact=True).x
    return [[{s: as_sympy(x[k, r, e]) for r, s in enumerate(f.state)} for k in range(len(gradients) + 1)]
            for e in range(len(theta0))]


def drive(options: dict, *, impl: str = "for-loop", gradients=GRADIENTS, theta0=THETA0, lrs=None, momenta=None):
    """Run ``torch.optim.SGD(**options)`` on injected gradients: params and buffers after each step."""
    torch = torch_module()
    p = torch.nn.Parameter(torch.tensor([float(x) for x in theta0], dtype=torch.float64))
    flags = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[impl]
    opt = torch.optim.SGD([p], **{k: float(v) if isinstance(v, Fraction) else v for k, v in options.items()}, **flags)
    params, buffers = [[Fraction(x) for x in p.detach().tolist()]], [None]
    for k, grad in enumerate(gradients):
        for group in opt.param_groups:
            if lrs is not None:
                group["lr"] = float(lrs[k])
            if momenta is not None:
                group["momentum"] = float(momenta[k])
        p.grad = torch.tensor([float(x) for x in grad], dtype=torch.float64)
        opt.step()
        params.append([Fraction(x) for x in p.detach().tolist()])
        buf = opt.state[p].get("momentum_buffer")
        buffers.append(None if buf is None else [Fraction(x) for x in buf.tolist()])
    return params, buffers, torch.__version__


def first_mismatch(f, values: dict, params, buffers=None, base=None, *, rel: float = 0.0):
    """The first (step, element, expected, got) where torch differs from derive, else None.

    *rel* is a relative tolerance, 0 (exact) for dyadic inputs; a non-dyadic lr
    (the default 1e-3) rounds in every product, so a claim using it passes a few ULPs.
    """
    expected = reference(f, values)
    for k in range(len(params)):
        for e in range(len(params[k])):
            want = Fraction(str(expected[e][k][f.params]))
            if abs(params[k][e] - want) > rel * abs(want):
                return {"step": k, "element": e, "expected": str(want), "torch": str(params[k][e])}
            if base is not None and buffers[k] is not None:
                want_b = Fraction(str(expected[e][k][base]))
                if buffers[k][e] != want_b:
                    return {"step": k, "element": e, "tensor": "momentum_buffer",
                            "expected": str(want_b), "torch": str(buffers[k][e])}
    return None
