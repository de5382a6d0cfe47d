"""Claims C1-C4, D1, D2 and B6-torch: torch.optim.SGD's interface and behaviour, judged against torch.

verify's built-in plugin (:mod:`verify.plugin`) imports this module, which
registers the claims into derive's registry (:func:`derive.claims.claim`); derive
itself never imports torch or verify.  Registering imports no torch (so that
``derive list`` stays fast); each procedure imports it when judged and records
``torch.__version__``.  Expected trajectories come from derive's linear-system
view of ``pytorch_sgd`` (exact rationals).
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from fractions import Fraction

import sympy as sp

from derive.catalogue import get
from derive.claims import claim
from derive.claims.evidence import Prose, VerifyRun, describe, finding, options_prose
from derive.equivalence import equivalence
from derive.errors import InvalidHyperparameter
from derive.formulation import Assign
from derive.symbols import b, g, lam, t
from verify.torch_runs import LRS, MOMENTA, drive, first_mismatch, torch_module

TUTORIAL = "tutorial page on torch.optim.SGD (2025)"
DOCS = "PyTorch documentation (torch.optim.SGD docstring)"
HALF, QUARTER = Fraction(1, 2), Fraction(1, 4)


@claim("C1", source=TUTORIAL, torch=True,
       statement="Signature: SGD(params, lr=0.01, momentum=0, weight_decay=0, dampening=0, nesterov=False); "
                 "'lr: the learning rate (required)'.",
       reading="inspect.signature(torch.optim.SGD) has these parameters in this order with these defaults, "
               "and lr has no default.",
       expected="fails")
def c1():
    """The first torch claim judged pays torch's import (about 2 s on 2 shared cores)."""
    torch = torch_module()
    params = inspect.signature(torch.optim.SGD).parameters
    stated = ["params", "lr", "momentum", "weight_decay", "dampening", "nesterov"]
    positional = [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    problems = []
    if positional[: len(stated)] != stated:
        problems.append(f"order is {', '.join(positional)}")
    lr = params["lr"].default
    if lr is not inspect.Parameter.empty:
        problems.append(f"lr defaults to {lr!r} (neither 0.01 nor required)")
    for name, value in (("momentum", 0), ("weight_decay", 0), ("dampening", 0), ("nesterov", False)):
        if params[name].default != value:
            problems.append(f"{name} defaults to {params[name].default!r}")
    keyword = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY]
    listed = ", ".join(n if p.default is inspect.Parameter.empty else f"{n} = {p.default!r}"
                       for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD)
    rows = (("parameters in order, with their defaults", listed), ("keyword-only", ", ".join(keyword)))
    witness = {"parameters in order": listed, "keyword-only": ", ".join(keyword)}
    if problems:
        return finding("fails", "; ".join(problems), rows=rows, witness=witness, torch_version=torch.__version__)
    return finding("holds", "signature and defaults as stated", rows=rows, torch_version=torch.__version__)


def _mismatch(mismatch) -> str:
    """A first mismatch in words (step, element, both values), or that there is none."""
    if mismatch is None:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in mismatch.items())


def penalised(f, coefficient):
    """*f* fed the gradient of f + coefficient * theta**2 / 2 (taken at f's gradient point)."""
    theta = sp.Symbol("theta")
    slope = sp.diff(coefficient * theta**2 / 2, theta).subs(theta, f.grad_at)
    update = tuple(Assign(a.target, a.value.xreplace({g[t]: g[t] + slope}),
                          a.first.xreplace({g[t]: g[t] + slope}) if a.first is not None else None) for a in f.update)
    return replace(f, name=f.name + "_l2", update=update, hyper={**f.hyper, "weight_decay": coefficient})


def _l2_torch(torch, options, sign):
    """Params of SGD(weight_decay=lam) on f and of SGD(weight_decay=0) on f + sign lam/2 |theta|^2."""
    def run(wd, penalty):
        p = torch.nn.Parameter(torch.tensor([0.5, -0.25, 2.0], dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=0.25, weight_decay=wd, **options)
        out = []
        for _ in range(5):
            opt.zero_grad()
            loss = (1.5 * p * p / 2 - p).sum() + penalty * (p * p).sum() / 2
            loss.backward()
            opt.step()
            out.append(p.detach().tolist())
        return out

    return run(0.25, 0.0), run(0.0, sign * 0.25)


@claim("C2", source=TUTORIAL, torch=True,
       statement=r"weight_decay is an L2 penalty: SGD with weight_decay $= \lambda$ on $f$ equals SGD without it on "
                 r"$f + (\lambda/2)\|\theta\|^2$.",
       reading="Same parameters at every step, for every momentum, dampening and Nesterov setting: symbolically "
               "(pytorch_sgd vs pytorch_sgd fed the penalised gradient) and by running torch (autograd).",
       assumptions=r"maximize off, the default; with maximize on torch adds $\lambda\theta$ after negating the "
                   r"gradient, which is ascent on $f - (\lambda/2)\|\theta\|^2$.",
       expected="holds under a condition", condition="maximize=False")
def c2():
    """Three symbolic equivalences with schedules, tau and lambda (T = 3 plus induction) and six
    torch runs: about 2-4 s, the eliminations over rational functions in five symbols dominate."""
    torch = torch_module()
    rows, failures = [], []
    for options in ({}, {"nesterov": True}, {"maximize": True}):
        wd = get("pytorch_sgd", **options)
        plain = get("pytorch_sgd", weight_decay=0, **options)
        result = equivalence(wd, penalised(plain, lam), same_params=True, steps=3)
        rows.append((Prose("symbolic, ", options_prose(options) if options else "momentum and dampening", ": ",
                            describe(result)),
                     getattr(result, "residual", sp.S.Zero)))
        if not result:
            failures.append(("symbolic", options, result))
    for options in ({"momentum": 0.5, "dampening": 0.25}, {"momentum": 0.75, "nesterov": True},
                    {"momentum": 0.5, "maximize": True}):
        with_wd, penalty = _l2_torch(torch, options, +1)
        same = with_wd == penalty
        rows.append((Prose("torch, ", options_prose(options), ": equal trajectories"), "yes" if same else "no"))
        if not same:
            failures.append(("torch", options, {"with weight decay": ", ".join(f"{x:.6g}" for x in with_wd[-1]),
                                                "with the penalty": ", ".join(f"{x:.6g}" for x in penalty[-1])}))
    if failures and all(o.get("maximize") for _, o, _ in failures):
        flipped, _ = _l2_torch(torch, {"momentum": 0.5, "maximize": True}, -1)
        rows.append((r"torch, maximize: equals the run on $f - (\lambda/2)\|\theta\|^2$", "yes" if flipped == _ else "no"))
        witness = next((w for kind, _, w in failures if kind == "torch"), None)
        return finding("holds under a condition", Prose(r"L2 penalty $\lambda/2$ exact (symbolic, torch) unless maximize "
                                                        r"is on, where weight decay is ascent on $f - (\lambda/2)\|\theta\|^2$"),
                       condition="maximize off", rows=rows, witness=witness, torch_version=torch.__version__)
    if failures:
        return finding("fails", f"{failures[0][0]} {failures[0][1]} differs", rows=rows, torch_version=torch.__version__)
    return finding("holds", "L2 penalty exact in every setting", rows=rows, torch_version=torch.__version__)


@claim("C3", source=TUTORIAL, torch=True,
       statement="nesterov is only applicable when momentum is non-zero (and, per PyTorch, dampening is zero).",
       reading=r"torch.optim.SGD raises ValueError for nesterov with $\mu = 0$ or $\tau \neq 0$ and accepts "
               r"$\mu > 0$, $\tau = 0$; derive's catalogue refuses the same combinations.",
       expected="holds")
def c3():
    torch = torch_module()
    p = [torch.nn.Parameter(torch.zeros(1))]
    cases = ({"momentum": 0.0}, {"momentum": 0.9, "dampening": 0.1}, {"momentum": 0.9, "dampening": 0.0})
    rows, agree = [], True
    for opts in cases:
        try:
            torch.optim.SGD(p, lr=0.1, nesterov=True, **opts)
            torch_ok = True
        except ValueError:
            torch_ok = False
        try:
            get("pytorch_sgd", nesterov=True, **{k: Fraction(str(v)) for k, v in opts.items()})
            derive_ok = True
        except InvalidHyperparameter:
            derive_ok = False
        expected_ok = opts["momentum"] > 0 and opts.get("dampening", 0) == 0
        agree &= torch_ok == derive_ok == expected_ok
        rows.append((Prose("nesterov, ", options_prose(opts)),
                     f"torch {'accepts' if torch_ok else 'refuses'}, derive {'accepts' if derive_ok else 'refuses'}"))
    return finding("holds" if agree else "fails", "torch refuses momentum=0 and dampening!=0 with nesterov; derive agrees"
                   if agree else "torch or derive disagrees with the statement", rows=rows, torch_version=torch.__version__)


@claim("C4", source=TUTORIAL, torch=True,
       statement=r"The defaults reproduce plain gradient descent $\theta \leftarrow \theta - \mathrm{lr}\, \nabla f(\theta)$.",
       reading="torch.optim.SGD(params) with every default gives plain_gd's trajectory at the default lr "
               "(exactly, on injected gradients), and pytorch_sgd with the defaults equals plain_gd symbolically.",
       expected="holds")
def c4():
    torch = torch_module()
    lr = inspect.signature(torch.optim.SGD).parameters["lr"].default
    params, _, version = drive({})
    # 1e-3 is not dyadic: each of the 5 steps rounds a product and a sum (<= 2 ULP each)
    mismatch = first_mismatch(get("plain_gd"), {"lr": Fraction(lr)}, params, rel=20 * 2.0**-53)
    symbolic = equivalence(get("plain_gd"), get("pytorch_sgd", momentum=0, dampening=0, weight_decay=0), same_params=True)
    rows = (("default lr", sp.Rational(str(lr))), (Prose("symbolic: ", describe(symbolic)), sp.S.Zero))
    if mismatch is None and symbolic:
        return finding("holds", Prose("5 steps equal plain GD with lr ", sp.Rational(str(lr)),
                                      " (within 20 ULP: 1/1000 is not dyadic); ", describe(symbolic)), rows=rows,
                       torch_version=version)
    return finding("fails", f"first mismatch: {_mismatch(mismatch)}", rows=rows, witness=mismatch, torch_version=version)


@claim("D1", source=DOCS, torch=True,
       statement="The first momentum value is not scaled by dampening; dampening applies from the second step.",
       reading=r"torch's momentum buffer after step 1 is the first gradient and afterwards $\mu b + (1-\tau) g$, as "
               "pytorch_sgd; a buffer damped from step 1 (MLX's zero-initialised form) is not what torch stores.",
       assumptions=r"$\mu = 1/2$, $\tau = 1/4$ (dyadic, exact in float64), injected gradients.", expected="holds")
def d1():
    options = {"momentum": HALF, "dampening": QUARTER}
    values = {"lr": Fraction(1, 8), "momentum": HALF, "dampening": QUARTER}
    params, buffers, version = drive({**options, "lr": values["lr"]})
    torch_form = first_mismatch(get("pytorch_sgd", weight_decay=0), values, params, buffers, base=b)
    damped = first_mismatch(get("mlx_sgd", weight_decay=0), values, params, buffers, base=b)
    first = sp.Matrix([sp.Rational(x.numerator, x.denominator) for x in buffers[1]]).T
    rows = (("torch buffer after step 1", first), ("pytorch_sgd, first mismatch", _mismatch(torch_form)),
            ("damped from step 1, first mismatch", _mismatch(damped)))
    if torch_form is None and damped is not None:
        return finding("holds", Prose(r"$b_1 = g_1 = $", first, "; a damped first step would differ at step "
                                      f"{damped['step']}"), rows=rows, witness=damped, torch_version=version)
    return finding("fails", f"torch vs pytorch_sgd: {_mismatch(torch_form)}; vs damped: {_mismatch(damped)}", rows=rows,
                   witness=torch_form, torch_version=version)


D2_CONFIGS = (
    {"momentum": HALF},
    {"momentum": HALF, "dampening": QUARTER},
    {"momentum": HALF, "weight_decay": QUARTER},
    {"momentum": Fraction(3, 4), "nesterov": True},
    {"momentum": HALF, "nesterov": True, "weight_decay": QUARTER, "maximize": True},
    {"momentum": HALF, "dampening": QUARTER, "weight_decay": QUARTER, "maximize": True},
    {"weight_decay": QUARTER, "maximize": True},
)


@claim("D2", source=DOCS, torch=True,
       statement="The algorithm box in the torch.optim.SGD docstring (maximize, weight decay, dampening, buffer "
                 "init, Nesterov) is what all three implementations (for-loop, foreach, fused) compute.",
       reading="For every feature combination, each implementation's parameters and buffer equal pytorch_sgd's "
               r"(the box: $g \leftarrow -g$ if maximize, $+\,\lambda\theta$, $b_1 = g_1$, $b_t = \mu b + (1-\tau) g$, "
               r"$g + \mu b$ if Nesterov, $\theta - \gamma g$) exactly, with an lr schedule and a momentum schedule.",
       assumptions="CPU, float64, dyadic inputs (exact); the box's symbols read as the catalogue entry pytorch_sgd.",
       expected="holds")
def d2():
    """Two independent checks, about 3 s: 21 exact runs against derive's linear system (dyadic
    inputs, equality), and the same 21 configurations through verify (seeded random inputs, lr and
    momentum schedules, verify's argued tolerance); verify's runs dominate the time."""
    rows, witness, version = [], None, None
    for options in D2_CONFIGS:
        flags = {k: v for k, v in options.items() if k in ("nesterov", "maximize")}
        hyper = {k: v for k, v in options.items() if k not in flags}
        f = get("pytorch_sgd", **flags, **{k: 0 for k in ("dampening", "weight_decay") if k not in hyper})
        values = {"lr": LRS, "momentum": MOMENTA if "momentum" in hyper else 0,
                  "dampening": hyper.get("dampening", 0), "weight_decay": hyper.get("weight_decay", 0)}
        if "momentum" not in hyper:
            f = get("pytorch_sgd", momentum=0, dampening=0, **flags)
        for impl in ("for-loop", "foreach", "fused"):
            params, buffers, version = drive({**options, "lr": LRS[0]}, impl=impl, lrs=LRS,
                                             momenta=MOMENTA if "momentum" in hyper else None)
            mismatch = first_mismatch(f, values, params, buffers, base=b if "momentum" in hyper else None)
            rows.append((Prose(f"exact, {impl}, ", options_prose(options)), "equal" if mismatch is None
                         else _mismatch(mismatch)))
            if mismatch is not None and witness is None:
                witness = {"implementation": impl, "options": str(options_prose(options)), **mismatch}
    swept = verify_sweep(rows)
    if witness is None and swept:
        return finding("holds", "21 exact runs (7 configurations x for-loop/foreach/fused, lr and momentum "
                       "schedules) equal pytorch_sgd; verify agrees on all 21 (seeded inputs, schedules)",
                       rows=rows, torch_version=version)
    return finding("fails", _mismatch(witness) if witness else "verify reports a mismatch", rows=rows, witness=witness,
                   torch_version=version)


def verify_sweep(rows: list) -> bool:
    """The D2 configurations through verify (runner, reference, compare)."""
    from verify.compare import compare
    from verify.reference import compiled, expected
    from verify.runner import RunConfig, run

    ok = True
    for options in D2_CONFIGS:
        flags = tuple(sorted((k, v) for k, v in options.items() if k in ("nesterov", "maximize")))
        floats = {k: v if isinstance(v, bool) else float(v) for k, v in options.items()}
        schedule = "explicit_momentum" if "momentum" in options else "explicit"
        for impl in ("for-loop", "foreach", "fused"):
            observed = run(RunConfig(options={"lr": 0.05, **floats}, impl=impl, schedule=schedule, steps=6))
            report = compare(observed, expected(compiled("pytorch_sgd", flags), observed))
            rows.append(("verify run", VerifyRun(options_prose(options), impl, "float64", 6, report.max_ulps,
                                                 report.max_allowed_ulps, report.passed)))
            ok &= report.passed
    return ok


@claim("B6-torch", source="article asking whether PyTorch's Nesterov is incorrect (2023)", torch=True,
       statement=r"PyTorch as implemented: $v_{t+1} = \mu v_t + \nabla f(\theta'_t)$, $\theta'_{t+1} = \theta'_t - "
                 r"\varepsilon(\nabla f(\theta'_t) + \mu v_{t+1})$.",
       reading="torch.optim.SGD(nesterov=True) computes pytorch_nesterov_implemented (parameters and buffer), "
               "with lr and momentum schedules.",
       expected="holds")
def b6_torch():
    params, buffers, version = drive({"lr": LRS[0], "momentum": MOMENTA[0], "nesterov": True}, lrs=LRS, momenta=MOMENTA)
    mismatch = first_mismatch(get("pytorch_nesterov_implemented"), {"lr": LRS, "momentum": MOMENTA}, params, buffers, base=b)
    if mismatch is None:
        return finding("holds", "5 steps with lr and momentum schedules equal pytorch_nesterov_implemented exactly",
                       torch_version=version)
    return finding("fails", f"first mismatch: {_mismatch(mismatch)}", witness=mismatch, torch_version=version)
