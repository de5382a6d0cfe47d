r"""What the papers say their methods recover, read from the text: PID control, AggMo and schedule-free.

* Recht (2018) realises the heavy ball and Nesterov's method as PID controllers (PID-HB, PID-NAG);
  qhoptim's ``from_pid`` says QHM recovers "a PID optimizer as described in Recht (2018)" (QHM-PID).
  The QHM paper's own PID section was not read here: the statement judged is qhoptim's docstring
  and map.
* Lucas et al. (ICLR 2019, Sec. 4) recover Nesterov momentum from AggMo with one learning rate per
  velocity (their eq. 4), and say the uniform 1/K weights give it only approximately (AggMo-NAG).
* Defazio et al. (NeurIPS 2024, Appendix B) write schedule-free SGD in a momentum form (Theorem 4:
  SF-momentum-form) and recover the linear-decay schedule with :math:`\beta_t = t/T` (B.1: SF-linear-decay);
  their Sec. 2 says a step adds :math:`(1-\beta)g_t` to :math:`y`, as EMA momentum does (SF-immediate-effect).

Each is judged by :func:`derive.equivalence.equivalence`; PID's and schedule-free's states are
redundant (the output is a function of the other states), so those are solved step by step.
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import get
from derive.catalogue.pid import proportional_gain
from derive.claims import claim
from derive.claims.evidence import EPS, MU, Prose, describe, finding, proof_rows
from derive.equivalence import equivalence
from derive.formulation import Assign, Formulation
from derive.symbols import eps, g, t, theta

ALPHA = sp.Symbol("alpha", positive=True)
BETA = sp.Symbol("beta", real=True)  # the entries' own beta (pid_control's filter, schedule-free's momentum)
K_I, K_D = sp.Symbol("k_I", real=True), sp.Symbol("k_D", real=True)
HORIZON = sp.Symbol("T_stop", positive=True)  # the paper's stopping time T (derive's T is the closed form's step)
STEPS = 4  # redundant states: no template, the change of variables solved at each step
RECHT = "Recht, argmin.net 2018-04-19 (benjamin-recht/benjamin-recht.github.io _posts/2018-04-19-pid.md)"
QHOPTIM = "facebookresearch/qhoptim qhoptim/pyt/qhm.py QHM.from_pid and qhoptim/common/param_conv.py from_pid"
AGGMO = ("Lucas, Sun, Zemel, Grosse, Aggregated momentum, ICLR 2019 (the review version's text), "
         "Sec. 4 'Recovering Nesterov momentum', eqs. (2), (4)-(7)")
SF = "Defazio et al., The road less scheduled, NeurIPS 2024"


def _judged(F, G, holds: str, fails: str, **options):
    result = equivalence(F, G, steps=STEPS, symbolic=False, **options)
    if result:
        return result, finding("holds", Prose(holds, describe(result)), rows=proof_rows(result.rows[-5:]))
    return result, finding("fails", Prose(fails, describe(result)), rows=proof_rows(result.rows), witness=result.witness)


# -- PID control ------------------------------------------------------------------------------------
def from_pid(k_p, k_i, k_d) -> dict:
    """qhoptim's map, exact: the QHM hyperparameters said to recover the PID with gains (k_P, k_I, k_D)."""
    return {"lr": k_i, "nu": k_p**2 / (k_i * k_d), "momentum": k_d / (k_d - k_p)}


def pid_as_qhm(k_i, k_d, b) -> dict:
    """Derived here: the QHM hyperparameters that follow Recht's explicit PID (k_P = -(1-b) k_D)."""
    return {"lr": k_i, "momentum": b, "nu": k_d * (1 - b) ** 2 / (b * k_i)}


def _transfer_difference(k_p, b, measured_late: bool) -> sp.Expr:
    r"""PID's transfer from the gradients to the parameters minus QHM's under qhoptim's map (0: the same method).

    With :math:`p` the delay and QHM's :math:`\theta = -\alpha[(1-\nu) + \nu(1-\beta)/(1-\beta p)]/(1-p)\,g`:
    Recht's PID measures :math:`e_t = -f'(u_t)` and sums :math:`w_t = \sum_{s<t} e_s`; the late variant
    measures :math:`e_t = -f'(u_{t-1})` and sums :math:`\sum_{s \le t} e_s`.
    """
    p = sp.Symbol("p")
    q = from_pid(k_p, K_I, K_D)
    qhm = -q["lr"] / (1 - p) * ((1 - q["nu"]) + q["nu"] * (1 - q["momentum"]) / (1 - q["momentum"] * p))
    derivative = K_D * (1 - b) * (1 - p) / (1 - b * p)
    if measured_late:
        pid = -(k_p + K_I / (1 - p) + derivative)
    else:  # the blog's e_{t-1} = -g_t: the controller's output is one delay behind its input
        pid = -(k_p + K_I * p / (1 - p) + derivative) / p
    return sp.factor(sp.cancel(pid - qhm))


@claim("QHM-PID", source=QHOPTIM + "; the PID of " + RECHT,
       statement=r"QHM recovers a PID optimizer as described in Recht (2018) with $\alpha = k_I$, "
                 r"$\nu = k_P^2/(k_I k_D)$, $\beta = k_D/(k_D - k_P)$.",
       reading=r"qhm with that map and pid_control (Recht's $w_{t+1} = w_t + e_t$, $v_t = \beta v_{t-1} + "
               r"(1-\beta)(e_t - e_{t-1})$, $u_t = k_P e_t + k_I w_t + k_D v_t$, $e_t = -f'(u_t)$) give the same "
               r"parameters, for the PIDs that are explicit methods ($k_P = -(1-\beta) k_D$).",
       assumptions=r"constant gains; $k_I w_0 = u_0$, no error measured before the first step; $b_0 = 0$.",
       expected="fails")
def qhm_pid():
    pid = get("pid_control")
    kp = proportional_gain(K_D, BETA)
    mapped = from_pid(kp, K_I, K_D)
    stated = equivalence(pid, get("qhm", **mapped), same_params=True, symbolic=False, steps=STEPS)
    derived = equivalence(pid, get("qhm", **pid_as_qhm(K_I, K_D, BETA)), same_params=True, symbolic=False, steps=STEPS)
    k_p = sp.Symbol("k_P", real=True)
    rows = ((Prose(r"map's $\beta$ for the explicit PID"), sp.factor(mapped["momentum"])),
            (Prose(r"map's $\nu$ over the derived $\nu$"), sp.factor(mapped["nu"] / pid_as_qhm(K_I, K_D, BETA)["nu"])),
            (Prose("qhoptim's map: ", describe(stated)), getattr(stated, "residual", sp.S.Zero)),
            (Prose(r"derived map $\alpha = k_I$, $\beta = \beta$, $\nu = k_D(1-\beta)^2/(\beta k_I)$: ",
                   describe(derived)), getattr(derived, "residual", sp.S.Zero)),
            (Prose("transfer, Recht's PID minus QHM under the map"), _transfer_difference(kp, BETA, False)),
            (Prose(r"transfer, the late-measured PID (filter $k_D/(k_D-k_P)$) minus QHM under the map"),
             _transfer_difference(k_p, K_D / (K_D - k_p), True)))
    if stated or not derived:
        return finding("holds" if stated else "fails", Prose(describe(stated), "; derived map: ", describe(derived)),
                       rows=rows, witness=getattr(stated, "witness", None))
    return finding("fails", Prose(r"qhoptim's map gives $\beta = 1/(2-\beta)$ and $\beta$ times the $\nu$ it needs, so "
                                  "it does not follow the blog's PID: ", describe(stated),
                                  r". QHM follows it with $\alpha = k_I$, $\beta = \beta$, $\nu = k_D(1-\beta)^2/(\beta k_I)$ "
                                  r"(derived and proved here). qhoptim's map is exact (transfer functions equal) for another "
                                  r"PID: $e_t = -f'(u_{t-1})$ measured one step late, the integral including $e_t$, and "
                                  r"the filter $\beta = k_D/(k_D - k_P)$"), rows=rows, witness=stated.witness)


@claim("PID-HB", source=RECHT + ", 'Proportional integral derivative control'",
       statement=r"Gradient descent with momentum with learning rate $\alpha$ (the heavy ball) is realized with "
                 r"$k_I = \alpha/(1-\beta)$, $k_D = \alpha\beta/(1-\beta)^3$, $k_P = -\alpha\beta/(1-\beta)^2$.",
       reading=r"pid_control with those gains (filter $\beta$) and heavy_ball($\alpha$, $\beta$) give the same parameters.",
       assumptions=r"constant $\alpha, \beta$; the heavy ball started at rest, the PID's integrator holding $u_0$.",
       expected="holds")
def pid_hb():
    pid = get("pid_control", k_I=ALPHA / (1 - BETA), k_D=ALPHA * BETA / (1 - BETA) ** 3,
              k_P=-ALPHA * BETA / (1 - BETA) ** 2)
    return _judged(pid, get("heavy_ball", lr=ALPHA, momentum=BETA), f"exact at steps 1..{STEPS}: ",
                   "no change of variables: ", same_params=True)[1]


@claim("PID-NAG", source=RECHT + ", 'Proportional integral derivative control'",
       statement=r"Nesterov's accelerated method pops out when we set $k_I = \alpha/(1-\beta)$, "
                 r"$k_D = \alpha\beta^2/(1-\beta)^3$, $k_P = -\alpha\beta^2/(1-\beta)^2$.",
       reading=r"pid_control with those gains and Nesterov's method (synthesized_nesterov with look-ahead "
               r"$\gamma = \beta$) take their gradients at the same points: the PID's output is Nesterov's look-ahead point.",
       assumptions=r"constant $\alpha, \beta$; Nesterov started at rest.", expected="holds")
def pid_nag():
    pid = get("pid_control", k_I=ALPHA / (1 - BETA), k_D=ALPHA * BETA**2 / (1 - BETA) ** 3,
              k_P=-ALPHA * BETA**2 / (1 - BETA) ** 2)
    return _judged(pid, get("synthesized_nesterov", lr=ALPHA, momentum=BETA, lookahead=BETA),
                   f"the same gradient points at steps 1..{STEPS}: ", "no change of variables: ")[1]


# -- AggMo ------------------------------------------------------------------------------------------
def aggmo_separate_lrs(betas, lrs) -> Formulation:
    r"""AggMo with one learning rate per velocity (Lucas et al., eq. 4).

    .. math:: v^{(i)}_t = \beta^{(i)} v^{(i)}_{t-1} - g_t, \qquad
              \theta_t = \theta_{t-1} + \frac{1}{K}\sum_i \gamma^{(i)}_t v^{(i)}_t, \qquad v^{(i)}_0 = 0
    """
    K = len(betas)
    velocities = tuple(sp.IndexedBase(f"v^{{({i})}}", real=True) for i in range(1, K + 1))
    update = tuple(Assign(v[t], b * v[t - 1] - g[t]) for v, b in zip(velocities, betas))
    step = sum((lr * v[t] for v, lr in zip(velocities, lrs)), sp.S.Zero) / K
    return Formulation(name=f"aggmo_lrs_{K}", title="AggMo with a learning rate per velocity (Lucas et al., eq. 4)",
                       citation=AGGMO, state=(theta, *velocities), params=theta, grad_at=theta[t - 1],
                       update=update + (Assign(theta[t], theta[t - 1] + step),), init={v: 0 for v in velocities},
                       hyper={"lr": lrs[0], **{f"beta_{i}": b for i, b in enumerate(betas, start=1)}})


@claim("AggMo-NAG", source=AGGMO,
       statement=r"To recover Nesterov momentum we consider the special case of $\beta = [0, \beta]$ and "
                 r"$\gamma^{(1)}_t = 2\gamma$, $\gamma^{(2)}_t = 2\beta\gamma$; the update to $\phi_t = \theta_t + "
                 r"\gamma\beta v_t$ from Nesterov is identical to the AggMo update to $\theta$. If $\gamma^{(1)} = "
                 r"\gamma^{(2)} = 2\gamma$ the equivalence holds approximately when $\beta$ is close to 1.",
       reading=r"AggMo with a learning rate per velocity, $\beta = [0, \beta]$, rates $(2\gamma, 2\beta\gamma)$, "
               r"and Sutskever's Nesterov momentum with a constant $\gamma$ take their gradients at the same points; "
               r"with the uniform rates $(2\gamma, 2\gamma)$ (AggMo itself, lr $2\gamma$) they do not, exactly.",
       assumptions=r"constant $\gamma$, $\beta$; zero velocities.", expected="holds")
def aggmo_nag():
    nesterov = get("sutskever_nesterov", lr=EPS, momentum=MU)
    weighted = equivalence(aggmo_separate_lrs((0, MU), (2 * EPS, 2 * MU * EPS)), nesterov, steps=3)
    uniform = equivalence(aggmo_separate_lrs((0, MU), (2 * EPS, 2 * EPS)), nesterov, steps=3)
    rows = ((Prose(r"rates $(2\gamma, 2\beta\gamma)$: ", describe(weighted)), getattr(weighted, "residual", sp.S.Zero)),
            (Prose(r"uniform rates $(2\gamma, 2\gamma)$: ", describe(uniform)),
             sp.factor(getattr(uniform, "residual", sp.S.Zero))))
    if weighted and not uniform:
        return finding("holds", Prose(r"exact with the rates $(2\gamma, 2\beta\gamma)$: ", describe(weighted),
                                      r"; the uniform 1/K weights are not Nesterov (", describe(uniform),
                                      r"): the residual vanishes only at $\beta = 1$, the paper's 'approximately'"),
                       rows=rows, witness=uniform.witness)
    failed = weighted if not weighted else uniform
    return finding("fails" if not weighted else "holds", Prose(describe(weighted), "; uniform: ", describe(uniform)),
                   rows=rows, witness=getattr(failed, "witness", None))


# -- schedule-free SGD ------------------------------------------------------------------------------
def schedule_free_momentum_form() -> Formulation:
    r"""Schedule-free SGD in the paper's momentum form (Theorem 4, :math:`w_t = 1`, constant :math:`\beta`).

    .. math:: m_t = \frac{t-1}{t+1} m_{t-1} + \frac{1}{t+1}\Delta_t, \qquad y_t = y_{t-1} + \beta m_t + (1-\beta)\Delta_t,
              \qquad \Delta_t = -\gamma_t g_t

    (the paper's :math:`m_t = x_{t+1} - x_t`, :math:`u_t = y_{t+1} - y_t`; its :math:`t` is this step).
    """
    m = sp.IndexedBase("m", real=True)
    y = sp.IndexedBase("y", real=True)
    base = -eps[t] * g[t]  # the base optimizer's (SGD's) update Delta_t
    return Formulation(name="schedule_free_momentum_form", title="Schedule-free SGD, momentum form (Theorem 4)",
                       citation=SF + ", Appendix B, Theorem 4", state=(y, m), params=y, grad_at=y[t - 1],
                       update=(Assign(m[t], (t - 1) / (t + 1) * m[t - 1] + base / (t + 1)),
                               Assign(y[t], y[t - 1] + BETA * m[t] + (1 - BETA) * base)),
                       init={m: 0}, hyper={"lr": eps[t], "momentum": BETA})


@claim("SF-momentum-form", source=SF + ", Appendix B, Theorem 4 and the remark after it",
       statement=r"With $w_t = 1$ and constant $\beta$: $m_t = \frac{t-1}{t+1} m_{t-1} + \frac{1}{t+1}\Delta_t$, "
                 r"$u_t = \beta m_t + (1-\beta)\Delta_t$; if $\beta = 1$ we recover the standard Polyak momentum with a "
                 r"time-varying momentum factor, while if $\beta = 0$ we have ordinary SGD without momentum.",
       reading=r"schedule_free_sgd (averaging $c_{t+1} = 1/(t+1)$, lr schedule $\gamma_t$) and the momentum form give the "
               r"same $y$; at $\beta = 1$ it is heavy_ball with lr $\gamma_t/(t+1)$ and momentum $(t-1)/(t+1)$; at "
               r"$\beta = 0$ plain_gd.", assumptions=r"$z_1 = x_1$; $\Delta_t = -\gamma_t g_t$.", expected="holds")
def sf_momentum_form():
    sf = get("schedule_free_sgd", averaging=1 / (t + 1))
    form = equivalence(sf, schedule_free_momentum_form(), same_params=True, symbolic=False, steps=STEPS)
    polyak = equivalence(get("schedule_free_sgd", momentum=1, averaging=1 / (t + 1)),
                         get("heavy_ball", lr=eps[t] / (t + 1), momentum=(t - 1) / (t + 1)),
                         same_params=True, symbolic=False, steps=STEPS)
    plain = equivalence(get("schedule_free_sgd", momentum=0, averaging=1 / (t + 1)), get("plain_gd"),
                        same_params=True, symbolic=False, steps=STEPS)
    parts = (("momentum form: ", form), (r"$\beta = 1$, heavy ball: ", polyak), (r"$\beta = 0$, plain SGD: ", plain))
    rows = tuple((Prose(label, describe(r)), getattr(r, "residual", sp.S.Zero)) for label, r in parts)
    failed = next((r for _, r in parts if not r), None)
    if failed is None:
        return finding("holds", Prose(f"exact at steps 1..{STEPS}, all three: ", describe(form)), rows=rows)
    return finding("fails", Prose("no change of variables: ", describe(failed)), rows=rows, witness=failed.witness)


@claim("SF-linear-decay", source=SF + ", Appendix B.1 (Recovering linear decay)",
       statement=r"With $w_t = 1$ the update is $u_t = (1 - \alpha_t + t(\alpha_{t+1} - \alpha_t)) m_t + \alpha_t\Delta_t$; "
                 r"the coefficient of $m_t$ vanishes for $\alpha_t = (T - t)/T$, the linear decay schedule, so that "
                 r"$u_t = \alpha_t \Delta_t$.",
       reading=r"schedule_free_sgd with $\beta_t = t/T$ (momentum $(t+1)/T$ in this step numbering), averaging "
               r"$1/(t+1)$ and a constant $\gamma$ gives the same $y$ as plain SGD with the linear-decay rate "
               r"$\gamma(T - t)/T$.", assumptions=r"$z_1 = x_1$; $T$ the stopping time, symbolic.", expected="holds")
def sf_linear_decay():
    sf = get("schedule_free_sgd", lr=EPS, momentum=(t + 1) / HORIZON, averaging=1 / (t + 1))
    return _judged(sf, get("plain_gd", lr=EPS * (HORIZON - t) / HORIZON),
                   f"exact at steps 1..{STEPS}: y is SGD with the linear decay: ", "no change of variables: ",
                   same_params=True)[1]


@claim("SF-immediate-effect", source=SF + ", Sec. 2",
       statement=r"The immediate effect of the gradient $g_t$ at step $t$ is to introduce $(1-\beta)g_t = 0.1g_t$ into "
                 r"the iterate sequence $y$. This is similar to exponential-moving-average (EMA) momentum, where also "
                 r"$(1-\beta)g_t$ is added into the iterate sequence on step $t$.",
       reading=r"in the closed forms, the coefficient of $g_t$ in schedule_free_sgd's $y_t$ (averaging $1/(t+1)$) is "
               r"$-(1-\beta)\gamma_t$, as it is in EMA momentum's iterate (qhm with $\nu = 1$: $-(1-\beta)\alpha$), at "
               "steps 1..3.", assumptions=r"$z_1 = x_1$; the step's rate $\gamma_t$ scales both.", expected="fails")
def sf_immediate_effect():
    from derive.unroll import closed_form

    sf, ema = get("schedule_free_sgd", averaging=1 / (t + 1)), get("qhm", nu=1, momentum=BETA)
    rows, off, ema_off = [], [], []
    for n in range(1, 4):
        stated = -(1 - BETA) * eps[n]
        got = sp.factor(closed_form(sf, n).expression().coeff(g[n]) - stated)
        ema_got = sp.factor(closed_form(ema, n).expression().coeff(g[n]) - stated)
        rows += [(Prose(f"step {n}: coefficient of g_{n} in y_{n} minus the stated one"), got),
                 (Prose(f"step {n}: the same in EMA momentum's iterate"), ema_got)]
        off += [got] if got != 0 else []
        ema_off += [ema_got] if ema_got != 0 else []
    if ema_off:
        return finding("fails", Prose("EMA momentum's coefficient is not the stated one either: ", ema_off[0]),
                       rows=tuple(rows))
    if not off:
        return finding("holds", r"the coefficient is $-(1-\beta)\gamma_t$ in both", rows=tuple(rows))
    return finding("fails", Prose(r"EMA momentum adds exactly $(1-\beta)\gamma_t g_t$, schedule-free SGD adds "
                                  r"$(1 - \beta + \beta c_{t+1})\gamma_t g_t$ with $c_{t+1} = 1/(t+1)$: off by ", off[0],
                                  r" at step 1, tending to $(1-\beta)$ only as $t$ grows (the paper's 'similar')"),
                   rows=tuple(rows))
