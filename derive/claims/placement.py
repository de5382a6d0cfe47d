"""Claims A1-A5 and D3: where the learning rate sits in momentum (paper vs PyTorch placement).

Source A: an article on PyTorch's SGD (2017); D3: PyTorch's own documentation.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.catalogue import get
from derive.claims import claim
from derive.claims.evidence import CONSTANT, EPS, MU, Prose, by_schedule, describe, finding, proof_rows
from derive.equivalence import equivalence, translation
from derive.formulation import Assign
from derive.symbols import eps, g, mu, t
from derive.unroll import closed_form

ARTICLE = "article on PyTorch's SGD (2017)"
PAPER, PT = "sutskever_momentum", "pytorch_momentum_documented"


@claim("A1", source=ARTICLE,
       statement=r"Paper form (Sutskever et al. 2013): $v \leftarrow \rho v + \mathrm{lr}\, g$, $p \leftarrow p - v$. "
                 r"PyTorch form: $v \leftarrow \rho v + g$, $p \leftarrow p - \mathrm{lr}\, v$. "
                 "The only difference is where lr is applied.",
       reading=r"The two forms give the same parameter trajectory for every objective "
               r"(some $v' = S_t v$ maps one onto the other), for a learning-rate schedule $\varepsilon_t$.",
       assumptions=r"$v_0 = 0$ in both; momentum schedule $\mu_t$ shared; gradient as an undefined function.",
       expected="holds under a condition", condition="constant learning rate")
def a1():
    schedule = equivalence(get(PAPER), get(PT), same_params=True)
    constant = equivalence(get(PAPER, lr=EPS), get(PT, lr=EPS), same_params=True)
    return by_schedule(schedule, constant, what="paper → PyTorch placement")


@claim("A2", source=ARTICLE,
       statement=r"Substituting $v' = \mathrm{lr}\, v$ into PyTorch's form gives $p \leftarrow p - v'$ and "
                 r"$v' \leftarrow (\mathrm{lr}\,\rho) v + \mathrm{lr}\, g$; setting $\rho' = \mathrm{lr}\,\rho$ "
                 "gives the paper's formula.",
       reading=r"PyTorch's form with momentum $\rho$ equals the paper's form with momentum $\rho' = \mathrm{lr}\,\rho$ "
               r"(constant lr and $\rho$).",
       assumptions=r"constant $\mathrm{lr} = \varepsilon$ and $\rho = \mu$; $v_0 = 0$.",
       expected="fails")
def a2():
    pt = get(PT, **CONSTANT)
    # The substitution step itself: lr * b_t in terms of the old, unscaled buffer.
    buf = pt.state[1]
    new = pt.step({s: s[t - 1] for s in pt.state}, g[t])
    substituted = sp.expand(EPS * new[buf] - (EPS * MU * buf[t - 1] + EPS * g[t]))
    claimed = equivalence(pt, get(PAPER, lr=EPS, momentum=EPS * MU), same_params=True)
    found = translation(pt, PAPER, lr=EPS)
    rows = ((r"substitution step: $\varepsilon b_t - (\varepsilon\mu\, b_{t-1} + \varepsilon g_t)$", substituted),
            (r"residual with $\rho' = \varepsilon\mu$", claimed.residual if not claimed else sp.S.Zero),
            (r"momentum that works, $\rho'_t$", found.schedule if found else sp.nan))
    if claimed:
        return finding("holds", Prose(r"$\rho' = \mathrm{lr}\,\rho$ reproduces PyTorch: ", describe(claimed)), rows=rows)
    return finding("fails", Prose("the substitution step is right (residual ", substituted,
                                  r") but $\rho' = \mathrm{lr}\,\rho$ is not: ", describe(claimed),
                                  r"; the solver finds $\rho'_t = $", found.schedule),
                   rows=rows, witness=claimed.witness)


@claim("A3", source=ARTICLE,
       statement="PyTorch's form keeps momentum invariant to changes of the learning rate; when a schedule "
                 "lowers lr, PyTorch's form only takes smaller steps, whereas under the paper form the "
                 "momentum effectively increases (later gradients weigh less in the velocity).",
       reading=r"(i) In PyTorch's step $\theta_T - \theta_{T-1}$, the weights of $g_k$ relative to $g_T$ are free of "
               r"every $\varepsilon$; in the paper's they carry $\varepsilon_k/\varepsilon_T$. (ii) The paper form "
               r"equals PyTorch's form with momentum $\mu'_t = \mu_t \varepsilon_{t-1}/\varepsilon_t$, which exceeds "
               r"$\mu_t$ exactly when $\varepsilon_t < \varepsilon_{t-1}$.",
       assumptions=r"$v_0 = 0$; $T = 4$ for (i); schedules $\varepsilon_t, \mu_t > 0$.",
       expected="holds")
def a3():
    T = 4
    ratios = {}
    for name in (PT, PAPER):
        f = get(name)
        now, before = closed_form(f, T), closed_form(f, T - 1)
        step = {k: sp.expand(now.coefficient(f.params, g[k]) - before.coefficient(f.params, g[k]))
                for k in range(1, T + 1)}
        ratios[name] = [sp.factor(step[k] / step[T]) for k in range(1, T)]
    pt_free = all(not r.has(eps) for r in ratios[PT])
    paper_carries = all(r.has(eps[k + 1]) and r.has(eps[T]) for k, r in enumerate(ratios[PAPER]))
    found = translation(get(PAPER), PT)
    delta = sp.Symbol("delta", positive=True)
    excess = sp.factor((found.schedule - mu[t]).subs(eps[t - 1], eps[t] + delta)) if found else sp.nan
    rows = ((r"PyTorch: weight of $g_k$ over weight of $g_4$ in step 4, $k = 1, 2, 3$", sp.Tuple(*ratios[PT])),
            (r"paper: weight of $g_k$ over weight of $g_4$ in step 4, $k = 1, 2, 3$", sp.Tuple(*ratios[PAPER])),
            (r"equivalent PyTorch momentum $\mu'_t$", found.schedule if found else sp.nan),
            (r"$\mu'_t - \mu_t$ with $\varepsilon_{t-1} = \varepsilon_t + \delta$", excess))
    increases = bool(found) and bool(sp.posify(excess)[0].is_positive)
    if pt_free and paper_carries and increases:
        return finding("holds", Prose(r"PyTorch's relative weights are free of $\varepsilon$; the paper's carry "
                                      r"$\varepsilon_k/\varepsilon_T$; paper = PyTorch with $\mu'_t = $", found.schedule,
                                      r" $> \mu_t$ when lr drops"), rows=rows)
    return finding("fails", f"relative weights: PyTorch free of eps {pt_free}, paper carries eps {paper_carries}, "
                   f"effective momentum increases {increases}", rows=rows)


def lr_in_gradient():
    """A4's alternative implementation: PyTorch's program with lr = 1 and the gradient pre-scaled."""
    f = get(PT, lr=1)
    update = tuple(Assign(a.target, a.value.xreplace({g[t]: eps[t] * g[t]}),
                          a.first.xreplace({g[t]: eps[t] * g[t]}) if a.first is not None else None)
                   for a in f.update)
    return replace(f, name="pytorch_lr_in_gradient", title="PyTorch momentum, lr applied to the gradient",
                   update=update, hyper={**f.hyper, "lr": eps[t]})


@claim("A4", source=ARTICLE,
       statement="Applying lr to the gradient before it enters the velocity turns PyTorch's implementation "
                 "into the paper's formula (an alternative implementation of torch.optim.SGD).",
       reading=r"PyTorch's program with $\mathrm{lr} = 1$ fed the gradient $\varepsilon_t g_t$ gives the paper form's parameter "
               "trajectory, for every lr schedule.",
       assumptions=r"$v_0 = 0$; schedules $\varepsilon_t, \mu_t$.", expected="holds")
def a4():
    result = equivalence(get(PAPER), lr_in_gradient(), same_params=True)
    if result:
        return finding("holds", Prose("exact under any schedule: ", describe(result)), rows=proof_rows(result.rows[-5:]))
    return finding("fails", describe(result), rows=proof_rows(result.rows), witness=result.witness)


@claim("A5", source=ARTICLE,
       statement="Algorithms tuned under the paper form (decoupled lr and momentum, e.g. YellowFin) do not "
                 "carry over to PyTorch unchanged.",
       reading=r"Under a time-varying lr, PyTorch reproduces the paper form's $(\varepsilon_t, \mu_t)$ only with the "
               r"translated momentum $\mu'_t = \mu_t \varepsilon_{t-1}/\varepsilon_t$ (and the paper reproduces "
               r"PyTorch's with $\mu_t \varepsilon_t/\varepsilon_{t-1}$); the unchanged $\mu'_t = \mu_t$ works only "
               "for a constant lr.",
       assumptions=r"$v_0 = 0$; schedules $\varepsilon_t, \mu_t$; step 1's momentum is never read ($v_0 = 0$).",
       expected="holds")
def a5():
    forward = translation(get(PAPER), PT)
    backward = translation(get(PT), PAPER)
    unchanged = equivalence(get(PAPER), get(PT), same_params=True)
    rows = (("PyTorch momentum reproducing the paper", forward.schedule if forward else sp.nan),
            ("paper momentum reproducing PyTorch", backward.schedule if backward else sp.nan),
            ("unchanged momentum: residual", unchanged.residual if not unchanged else sp.S.Zero))
    if forward and backward and not unchanged:
        return finding("holds", Prose(r"map $\mu'_t = $", forward.schedule, " (inverse ", backward.schedule,
                                      r"); unchanged $\mu$ fails: ", describe(unchanged)),
                       rows=rows, witness=unchanged.witness)
    return finding("fails", f"translation found {bool(forward)}, unchanged works {bool(unchanged)}", rows=rows)


@claim("D3", source="PyTorch documentation (torch.optim.SGD note)",
       statement="With a constant learning rate, PyTorch's momentum and the paper's give identical parameter "
                 "trajectories.",
       reading=r"torch.optim.SGD as implemented (first-gradient buffer, $\tau = 0$, $\lambda = 0$) and Sutskever's "
               "momentum give the same parameters at every step for a constant lr, any momentum schedule.",
       assumptions=r"constant lr $\varepsilon$; momentum schedule $\mu_t$ shared; $v_0 = 0$ for the paper form.",
       expected="holds")
def d3():
    torch_sgd = dict(dampening=0, weight_decay=0)
    result = equivalence(get(PAPER, lr=EPS), get("pytorch_sgd", lr=EPS, **torch_sgd), same_params=True)
    if result:
        return finding("holds", Prose("exact for constant lr: ", describe(result)), rows=proof_rows(result.rows[-5:]))
    return finding("fails", describe(result), rows=proof_rows(result.rows), witness=result.witness)
