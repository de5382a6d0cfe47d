r"""Claims of the linear-momentum literature: what each paper says its method recovers or equals.

Heavy ball (Polyak 1964; Sutskever et al. 2013), quasi-hyperbolic momentum and its recovery of
other methods (Ma and Yarats 2019, with the parameter maps of their ``qhoptim``), AggMo (Lucas
et al. 2019), stochastic primal averaging (Defazio 2020) and schedule-free SGD (Defazio et al.
2024).  Each is judged by the change-of-variables solver (:mod:`derive.equivalence`) on the
catalogue entries.  The witness needs numbers for the roles beyond lr/momentum/dampening/weight
decay (``nu``, ``lookahead``, ``averaging``, ``beta_i``, AccSGD's ``kappa``, ``xi``, ``c``): they are
passed explicitly (:data:`WITNESS`).

QHM's PID claim (qhoptim's ``from_pid`` against Recht's 2018 post, read there) is judged in
:mod:`derive.claims.recoveries`, with the other recoveries read from the texts.

QHM's characterisation of the two-state optimizers (TSO-QHM) is judged with qhoptim's map,
which has a square root: at exact rational coefficients where it is rational, and in the
QHM-similar family symbolically (:func:`_tso_of_qhm`).  The paper's appendix text was not at
hand either: the TSO update is taken as the one under which the map returns QHM's own
parameters for QHM written in its own coordinates (simultaneous updates, gradient at
:math:`\theta_t`); the other natural reading (:math:`\theta` reads the new :math:`a`) fails even there.
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import get
from derive.catalogue.literature import aggmo_with, c
from derive.claims import claim
from derive.claims.evidence import CONSTANT, EPS, MU, Prose, by_schedule, describe, finding, matrix_equation, proof_rows
from derive.equivalence import equivalence
from derive.symbols import eps, t

QHM = "Ma and Yarats, ICLR 2019"
QHOPTIM = "facebookresearch/qhoptim qhoptim/common/param_conv.py"
SF = "Defazio et al., The road less scheduled, NeurIPS 2024"
HALF, THIRD = sp.Rational(1, 2), sp.Rational(1, 3)
# witness numbers for the roles the shared witness table does not know
WITNESS = {"nu": THIRD, "lookahead": sp.Rational(1, 5), "averaging": THIRD, "kappa": 5, "xi": 2,
           "c": sp.Rational(7, 10), "beta_1": HALF, "beta_2": HALF, "beta_3": sp.Rational(3, 4)}
ALPHA, BETA1, BETA2 = sp.symbols("alpha beta_1 beta_2", positive=True)
BETA = sp.Symbol("beta", positive=True)


def _verdict(result, holds: str, fails: str):
    """One equivalence as a finding: the change of variables, or the residual and the witness."""
    if result:
        return finding("holds", Prose(holds, describe(result)), rows=proof_rows(result.rows[-5:]))
    return finding("fails", Prose(fails, describe(result)), rows=proof_rows(result.rows), witness=result.witness)


# -- heavy ball -----------------------------------------------------------------------------------
@claim("HB-classical", source="Sutskever, Martens, Dahl, Hinton, ICML 2013, Sec. 2",
       statement=r"Classical momentum (eqs. 1-2, $v_{t+1} = \mu v_t - \varepsilon\nabla f(\theta_t)$, "
                 r"$\theta_{t+1} = \theta_t + v_{t+1}$) is Polyak's (1964) heavy ball method.",
       reading=r"heavy_ball ($\theta_t = \theta_{t-1} - \varepsilon_t g_t + \mu_t(\theta_{t-1} - \theta_{t-2})$, "
               r"started at rest) and sutskever_momentum give the same parameters for every lr and momentum schedule.",
       assumptions=r"$v_0 = 0$ and $\theta_{-1} = \theta_0$.", expected="holds")
def hb_classical():
    result = equivalence(get("heavy_ball"), get("sutskever_momentum"), same_params=True, steps=3, values=WITNESS)
    return _verdict(result, "exact under any schedule: ", "no change of variables: ")


@claim("HB-PyTorch", source="common usage (\"SGD with momentum is Polyak's heavy ball\"); torch.optim.SGD",
       statement="torch.optim.SGD with momentum (no dampening, no weight decay) is Polyak's heavy ball.",
       reading=r"heavy_ball and pytorch_sgd (dampening 0, weight decay 0) give the same parameters under an "
               r"lr schedule $\varepsilon_t$ and momentum schedule $\mu_t$.",
       assumptions=r"started at rest; PyTorch's buffer starts as the first gradient.",
       expected="holds under a condition", condition="constant learning rate")
def hb_pytorch():
    torch_form = {"dampening": 0, "weight_decay": 0}
    schedule = equivalence(get("heavy_ball"), get("pytorch_sgd", **torch_form), same_params=True, steps=3, values=WITNESS)
    constant = equivalence(get("heavy_ball", lr=EPS), get("pytorch_sgd", lr=EPS, **torch_form), same_params=True,
                           steps=3, values=WITNESS)
    return by_schedule(schedule, constant, what="heavy ball → torch.optim.SGD")


# -- QHM and what it recovers ---------------------------------------------------------------------
@claim("QHM-SGD", source=QHM + ", Sec. 3",
       statement=r"QHM with $\nu = 0$ is plain SGD.",
       reading=r"qhm with $\nu = 0$ and plain_gd give the same parameters for every lr schedule.", expected="holds")
def qhm_sgd():
    return _verdict(equivalence(get("qhm", nu=0), get("plain_gd"), same_params=True, steps=3, values=WITNESS),
                    r"$\nu = 0$: ", "no change of variables: ")


@claim("QHM-momentum", source=QHM + ", Sec. 3; qhoptim QHM docstring",
       statement=r"QHM with $\nu = 1$ is momentum SGD; QHM's buffer is damped, so momentum with learning rate "
                 r"$\alpha$ is QHM with learning rate $\alpha/(1 - \beta)$.",
       reading=r"qhm($\varepsilon_t/(1-\mu)$, $\mu$, $\nu = 1$) and torch.optim.SGD($\varepsilon_t$, $\mu$, no "
               r"dampening) give the same parameters, for an lr schedule and a constant $\mu$; and qhm($\varepsilon_t$, "
               r"$\mu$, $\nu = 1$) is the damped zero-initialised buffer (mlx_sgd with dampening $\mu$).",
       assumptions=r"$b_0 = 0$ in QHM; PyTorch's first-gradient buffer.", expected="holds")
def qhm_momentum():
    result = equivalence(get("qhm", nu=1, lr=eps[t] / (1 - MU), momentum=MU),
                         get("pytorch_sgd", momentum=MU, dampening=0, weight_decay=0), same_params=True, steps=3, values=WITNESS)
    # unscaled, nu = 1 is the damped, zero-initialised buffer (MLX's SGD with dampening = momentum)
    damped = equivalence(get("qhm", nu=1, momentum=MU), get("mlx_sgd", momentum=MU, dampening=MU, weight_decay=0),
                         same_params=True, steps=3, values=WITNESS)
    if result and damped:
        return finding("holds", Prose(r"exact, the buffers differ by the factor $1 - \mu$: ", describe(result),
                                      r"; unscaled, $\nu = 1$ is the damped zero-initialised buffer: ", describe(damped)),
                       rows=proof_rows(result.rows[-5:]))
    failed = result if not result else damped
    return finding("fails", Prose("no change of variables: ", describe(failed)), rows=proof_rows(failed.rows),
                   witness=failed.witness)


@claim("QHM-NAG", source=QHM + ", Sec. 4 (NAG)",
       statement=r"QHM with $\nu = \beta$ recovers Nesterov's accelerated gradient.",
       reading=r"qhm($\varepsilon/(1-\mu)$, $\mu$, $\nu = \mu$) and torch.optim.SGD(nesterov=True) with "
               r"$(\varepsilon, \mu)$ give the same parameters (constant hyperparameters).",
       assumptions=r"constant $\varepsilon, \mu$; the NAG form that stores the look-ahead iterate.", expected="holds")
def qhm_nag():
    result = equivalence(get("qhm", nu=MU, lr=EPS / (1 - MU), momentum=MU),
                         get("pytorch_nesterov_implemented", **CONSTANT), same_params=True, steps=3, values=WITNESS)
    return _verdict(result, r"$\nu = \beta$ is NAG: ", "no change of variables: ")


def _from_synthesized_nesterov(alpha, beta1, beta2) -> dict:
    """qhoptim's map (the paper's Sec. 4): the QHM hyperparameters that recover SNV(alpha, beta1, beta2)."""
    return {"lr": alpha / (1 - beta1), "momentum": beta1, "nu": 1 - (1 - beta1) / beta1 * beta2}


@claim("QHM-SNV", source=QHM + ", Sec. 4; " + QHOPTIM + " from_synthesized_nesterov",
       statement=r"QHM recovers the synthesized Nesterov variants of Lessard et al. (2016): "
                 r"$\alpha_{QHM} = \alpha/(1-\beta_1)$, $\beta = \beta_1$, $\nu = 1 - \beta_2(1-\beta_1)/\beta_1$.",
       reading=r"qhm with that map follows synthesized_nesterov($\alpha, \beta_1, \beta_2$) under a change of "
               r"variables that takes the gradient at the same points (QHM's iterate is SNV's look-ahead point).",
       assumptions=r"constant $\alpha, \beta_1 \neq 0, \beta_2$; both started at rest.", expected="holds")
def qhm_snv():
    result = equivalence(get("qhm", **_from_synthesized_nesterov(ALPHA, BETA1, BETA2)),
                         get("synthesized_nesterov", lr=ALPHA, momentum=BETA1, lookahead=BETA2), steps=3, values=WITNESS)
    return _verdict(result, "exact: ", "no change of variables: ")


def _robust_momentum(L, kappa, rho):
    """Cyrus et al. (2018) as SNV parameters (qhoptim's from_robust_momentum)."""
    return (kappa * (1 - rho) ** 2 * (1 + rho) / L, kappa * rho**3 / (kappa - 1),
            rho**3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho)))


L_, KAPPA, RHO = sp.symbols("L kappa rho", positive=True)


@claim("QHM-RM", source=QHM + ", Sec. 4; " + QHOPTIM + " from_robust_momentum",
       statement=r"QHM recovers Robust Momentum (Cyrus et al. 2018): SNV with $\alpha = \kappa(1-\rho)^2(1+\rho)/L$, "
                 r"$\beta_1 = \kappa\rho^3/(\kappa-1)$, $\beta_2 = \rho^3/((\kappa-1)(1-\rho)^2(1+\rho))$.",
       reading=r"qhm with the SNV map of those parameters follows synthesized_nesterov with them, for symbolic "
               r"$L, \kappa, \rho$: QHM-SNV's change of variables (proved for symbolic $\alpha, \beta_1, \beta_2$) "
               r"specialised, valid where $\beta_1 \neq 0, 1$.", assumptions=r"$\kappa > 1$, $0 < \rho < 1$.",
       expected="holds")
def qhm_rm():
    # QHM-SNV's proof holds for symbolic alpha, beta_1, beta_2 wherever its change of variables is defined
    # (beta_1 not 0 or 1); Robust Momentum is an instance: check it is not degenerate, then specialise S_t
    alpha, beta1, beta2 = _robust_momentum(L_, KAPPA, RHO)
    generic = equivalence(get("qhm", **_from_synthesized_nesterov(ALPHA, BETA1, BETA2)),
                          get("synthesized_nesterov", lr=ALPHA, momentum=BETA1, lookahead=BETA2), steps=3, values=WITNESS)
    degenerate = [sp.factor(e) for e in (beta1, 1 - beta1) if sp.simplify(e) == 0]
    if not generic or degenerate:
        return finding("fails", Prose("the SNV map does not apply: ", describe(generic) if not generic else
                                      Prose("degenerate beta_1 ", degenerate[0])), rows=proof_rows(generic.rows))
    S = generic.S[t].xreplace({ALPHA: alpha, BETA1: beta1, BETA2: beta2}).applyfunc(sp.factor)
    return finding("holds", Prose(r"an instance of QHM-SNV ($\beta_1 \neq 0, 1$ for $\kappa > 1$, $0 < \rho < 1$): ",
                                  matrix_equation("S_t", S)),
                   rows=(("beta_1 of Robust Momentum", beta1),) + proof_rows(generic.rows[-5:]))


@claim("QHM-TM", source=QHM + ", Sec. 4; " + QHOPTIM + " from_robust_momentum(rho=None)",
       statement=r"Triple Momentum (Van Scoy et al. 2018) is Robust Momentum with $\rho = 1 - 1/\sqrt\kappa$, "
                 "so QHM recovers it too.",
       reading=r"Robust Momentum's $(\alpha, \beta_1, \beta_2)$ at $\rho = 1 - 1/\sqrt\kappa$ equal Triple Momentum's "
               r"$((1+\rho)/L,\ \rho^2/(2-\rho),\ \rho^2/((1+\rho)(2-\rho)))$; QHM then follows its iterate "
               r"(Triple Momentum's separate output $y = (1+\delta)\xi_t - \delta\xi_{t-1}$ is a read-out QHM does not "
               "produce).", assumptions=r"$\kappa > 1$.", expected="holds")
def qhm_tm():
    rho = 1 - 1 / sp.sqrt(KAPPA)
    robust = _robust_momentum(L_, KAPPA, rho)
    triple = ((1 + rho) / L_, rho**2 / (2 - rho), rho**2 / ((1 + rho) * (2 - rho)))
    differences = [sp.simplify(a - b) for a, b in zip(robust, triple)]
    rows = tuple((Prose(f"Robust Momentum minus Triple Momentum, parameter {n}"), d)
                 for n, d in zip((r"$\alpha$", r"$\beta_1$", r"$\beta_2$"), differences))
    if all(d == 0 for d in differences):
        return finding("holds", r"the three parameters agree exactly at $\rho = 1 - 1/\sqrt\kappa$; QHM-RM covers "
                       "the rest", rows=rows)
    return finding("fails", "the parameters differ", rows=rows)


@claim("QHM-AccSGD", source=QHM + ", Sec. 4; " + QHOPTIM + " from_accsgd",
       statement=r"QHM recovers AccSGD (Jain et al. 2018) with $\alpha = \delta\epsilon(1+\xi)/(1+\epsilon)$, "
                 r"$\nu = (\epsilon\xi - 1)/(\epsilon(1+\xi))$, $\beta = (\kappa - \epsilon^2\xi)/(\kappa + \epsilon\xi)$.",
       reading=r"qhm with that map and accsgd as its authors implement it (short step $\delta$, long-step "
               r"parameter $\kappa$, statistical advantage $\xi$, small constant $\epsilon$) give the same parameters.",
       assumptions=r"constant $\delta, \kappa, \xi, \epsilon$; AccSGD's buffer starts at $\theta_0$.", expected="holds")
def qhm_accsgd():
    d, k, x, e = sp.symbols("delta kappa xi epsilon", positive=True)
    qhm = get("qhm", lr=d * e * (1 + x) / (1 + e), nu=(e * x - 1) / (e * (1 + x)), momentum=(k - e**2 * x) / (k + e * x))
    result = equivalence(qhm, get("accsgd", lr=d, kappa=k, xi=x, c=e), same_params=True, steps=3, values=WITNESS)
    return _verdict(result, "exact: ", "no change of variables: ")


def _from_two_state_optimizer(h, k, l, m, q, z) -> dict:
    """qhoptim's map, exact: the QHM hyperparameters said to recover TSO(h, k, l, m, q, z)."""
    phi = sp.sqrt((h - q) ** 2 + 4 * k * m)
    psi = k * m - h * q
    xi = (h - q - phi) * (l * m - h * z) + 2 * m * (l * q - k * z)
    return {"lr": sp.radsimp(xi / (2 * phi * psi)), "nu": sp.radsimp(2 * m * (l * q - k * z) / xi),
            "momentum": sp.radsimp((h + q - phi) / 2)}


def _tso_of_qhm(alpha, beta, nu, s1, s2) -> dict:
    """QHM(alpha, beta, nu) as a TSO in the coordinates a = s1 theta + s2 b (b QHM's buffer): the TSOs
    QHM can recover at all (the iteration matrix has eigenvalues 1 and beta)."""
    M = sp.Matrix([[1, -alpha * beta * nu], [0, beta]])  # (theta, b) -> (theta, b), without the gradient
    B = sp.Matrix([-alpha * (1 - nu * beta), 1 - beta])
    S = sp.Matrix([[1, 0], [s1, s2]])
    Mt, Bt = (S * M * S.inv()).applyfunc(sp.cancel), S * B
    return {"h": Mt[1, 1], "k": Mt[1, 0], "l": sp.expand(Bt[1]), "m": Mt[0, 1], "q": Mt[0, 0], "z": sp.expand(Bt[0])}


# concrete QHM (alpha, beta, nu) = (1/2, 1/2, 1/3) as a TSO: in its own coordinates (q = 1) and mixed (q != 1);
# (h - q)^2 + 4km = 1/4 at both, so qhoptim's square root is rational
TSO_Q1 = _tso_of_qhm(HALF, HALF, THIRD, 0, 2)
TSO_MIXED = _tso_of_qhm(HALF, HALF, THIRD, 1, 2)


@claim("TSO-QHM", source=QHM + ", Appendix (two-state optimizers); " + QHOPTIM + " from_two_state_optimizer",
       statement=r"QHM recovers the two-state optimizer $a_{t+1} = h a_t + k\theta_t + l\nabla_t$, "
                 r"$\theta_{t+1} = m a_t + q\theta_t + z\nabla_t$ with $\phi = \sqrt{(h-q)^2 + 4km}$, "
                 r"$\psi = km - hq$, $\xi = (h-q-\phi)(lm-hz) + 2m(lq-kz)$: $\alpha = \xi/(2\phi\psi)$, "
                 r"$\nu = 2m(lq-kz)/\xi$, $\beta = (h+q-\phi)/2$.",
       reading=r"qhm with qhoptim's map of $(h, k, l, m, q, z)$ and two_state with them give the same parameters, "
               r"for the TSOs QHM can recover at all (iteration matrix with eigenvalues 1 and $\beta$, two_state "
               r"started at rest). Judged by the equivalence solver at exact rational coefficients where $\phi$ is "
               r"rational (QHM(1/2, 1/2, 1/3) in its own coordinates, $q = 1$, and in mixed ones, $a = \theta + 2b$); the "
               r"map's $\nu$ error over the whole family $a = s_1\theta + s_2 b$ is computed symbolically.",
       assumptions=r"constant coefficients; $m \neq 0$, $\phi, \psi, \xi \neq 0$; $a_0 = (1-q)\theta_0/m$.",
       expected="holds under a condition", condition="q = 1 (the parameters' own coefficient is one; then k = 0)")
def tso_qhm():
    def versus(tso: dict, **qhm):
        return equivalence(get("qhm", **qhm), get("two_state", **tso, at_rest=True), same_params=True, steps=3,
                           values=WITNESS)

    own = versus(TSO_Q1, **_from_two_state_optimizer(**TSO_Q1))
    mapped = _from_two_state_optimizer(**TSO_MIXED)
    mixed = versus(TSO_MIXED, **mapped)
    # the nu the mixed TSO needs: its gradient coefficient z = -alpha (1 - nu beta) is coordinate-free
    nu_needed = (1 + TSO_MIXED["z"] / mapped["lr"]) / mapped["momentum"]
    needed = versus(TSO_MIXED, **{**mapped, "nu": nu_needed})
    s1, s2 = sp.symbols("s_1 s_2", real=True)
    family = _tso_of_qhm(ALPHA, BETA, sp.Symbol("nu", positive=True), s1, s2)
    h, k, l, m, q, z = (family[r] for r in ("h", "k", "l", "m", "q", "z"))
    phi = 1 - BETA  # sqrt((h - q)^2 + 4km) = |1 - beta|, for 0 < beta < 1
    xi = (h - q - phi) * (l * m - h * z) + 2 * m * (l * q - k * z)
    nu_error = sp.factor(2 * m * (l * q - k * z) / xi - sp.Symbol("nu", positive=True))
    rows = ((Prose(r"$(h-q)^2 + 4km$ over the family"), sp.factor((h - q) ** 2 + 4 * k * m)),
            (Prose(r"map's $\alpha$ minus $\alpha$"), sp.factor(xi / (2 * phi * (k * m - h * q)) - ALPHA)),
            (Prose(r"map's $\beta$ minus $\beta$"), sp.factor((h + q - phi) / 2 - BETA)),
            (Prose(r"map's $\nu$ minus $\nu$ ($s_1 = (1-q)/m$)"), nu_error),
            (Prose("q = 1: ", describe(own)), getattr(own, "residual", sp.S.Zero)),
            (Prose(r"$a = \theta + 2b$, map's $\nu$ = ", mapped["nu"], ": ", describe(mixed)),
             getattr(mixed, "residual", sp.S.Zero)),
            (Prose(r"$a = \theta + 2b$, $\nu = (1 + z/\alpha)/\beta$ = ", nu_needed, ": ", describe(needed)),
             getattr(needed, "residual", sp.S.Zero)))
    if own and needed and not mixed:
        return finding("holds under a condition",
                       Prose(r"the map's $\alpha$ and $\beta$ are right in every coordinates; its $\nu$ only where "
                             r"$q = 1$: it is off by ", nu_error, r" with $s_1 = (1-q)/m$, e.g. ", mapped["nu"],
                             r" for 1/3 at $a = \theta + 2b$; $\nu = (1 + z/\alpha)/\beta$ (derived here) recovers it"),
                       condition=Prose(r"$q = 1$ (then $k = 0$); else $\nu = (1 + z/\alpha)/\beta$"),
                       rows=rows, witness=mixed.witness)
    if own and mixed:
        return finding("holds", Prose("exact in both coordinates: ", describe(mixed)), rows=rows)
    failed = own if not own else needed
    return finding("fails", Prose("no change of variables: ", describe(failed)), rows=rows, witness=failed.witness)


# -- AggMo ----------------------------------------------------------------------------------------
@claim("AggMo-K1", source="Lucas, Sun, Zemel, Grosse, ICLR 2019, Sec. 3",
       statement="AggMo with a single velocity (K = 1) is classical momentum.",
       reading=r"AggMo with $K = 1$ ($v_t = \beta v_{t-1} - g_t$, $\theta_t = \theta_{t-1} + \gamma_t v_t$) and "
               r"classical momentum give the same parameters for every lr schedule $\gamma_t$: exactly PyTorch's "
               r"placement (lr outside the velocity); Sutskever's placement only under a constant lr.",
       assumptions="zero velocities; constant $\\beta$.", expected="holds")
def aggmo_k1():
    single = aggmo_with(1)
    pytorch = equivalence(single(beta_1=BETA), get("pytorch_momentum_documented", momentum=BETA), same_params=True,
                          steps=3, values=WITNESS)
    paper = equivalence(single(beta_1=BETA), get("sutskever_momentum", momentum=BETA), same_params=True, steps=3, values=WITNESS)
    rows = ((Prose("PyTorch placement: ", describe(pytorch)), getattr(pytorch, "residual", sp.S.Zero)),
            (Prose("Sutskever placement: ", describe(paper)), getattr(paper, "residual", sp.S.Zero)))
    if pytorch:
        return finding("holds", Prose("K = 1 is momentum with the lr outside: ", describe(pytorch),
                                      "; with the lr inside only for a constant lr: ", describe(paper)),
                       rows=rows, witness=getattr(paper, "witness", None))
    return finding("fails", Prose("no change of variables: ", describe(pytorch)), rows=rows, witness=pytorch.witness)


# -- primal averaging and schedule-free -----------------------------------------------------------
@claim("SPA-momentum", source="Defazio 2020, Momentum via primal averaging, Sec. 2",
       statement=r"SGD with momentum ($m_{k+1} = \beta m_k + g_k$, $x_{k+1} = x_k - \alpha m_{k+1}$) is stochastic "
                 r"primal averaging with $c = 1 - \beta$ and $\eta = \alpha/(1 - \beta)$.",
       reading=r"primal_averaging($\eta_t = \varepsilon_t/(1-\beta)$, $c = 1-\beta$) and PyTorch's momentum "
               r"($\varepsilon_t$, $\beta$) give the same parameters, for an lr schedule $\varepsilon_t$.",
       assumptions=r"constant $\beta$; $z_0 = x_0$, $m_0 = 0$.", expected="holds under a condition",
       condition="constant learning rate")
def spa_momentum():
    schedule = equivalence(get("primal_averaging", lr=eps[t] / (1 - BETA), averaging=1 - BETA),
                           get("pytorch_momentum_documented", momentum=BETA), same_params=True, steps=3, values=WITNESS)
    constant = equivalence(get("primal_averaging", lr=EPS / (1 - BETA), averaging=1 - BETA),
                           get("pytorch_momentum_documented", lr=EPS, momentum=BETA), same_params=True, steps=3, values=WITNESS)
    return by_schedule(schedule, constant, what="primal averaging → momentum")


@claim("SPA-schedule", source="derived here (Defazio 2020 gives the constant case)",
       statement=r"Under schedules $\eta_t, c_t$, primal averaging is classical momentum with "
                 r"$\varepsilon_t = c_t\eta_t$ and $\mu_t = c_t(1 - c_{t-1})/c_{t-1}$.",
       reading=r"primal_averaging($\eta_t$, $c_t$) and sutskever_momentum with that map give the same parameters "
               "for every schedule.", assumptions=r"$z_0 = x_0$, $v_0 = 0$; $c_t \neq 0$.", expected="holds")
def spa_schedule():
    mapped = get("sutskever_momentum", lr=c[t] * eps[t], momentum=c[t] * (1 - c[t - 1]) / c[t - 1])
    result = equivalence(get("primal_averaging"), mapped, same_params=True, steps=3, values=WITNESS)
    return _verdict(result, "exact under any schedule: ", "no change of variables: ")


STEPS = 4  # schedule-free's state (y, z, x) is redundant (y = (1-beta) z + beta x): proved step by step


@claim("SF-primal", source=SF + ", Sec. 2",
       statement=r"With $\beta = 1$ schedule-free SGD is primal averaging (the gradient at the average $x$).",
       reading=f"schedule_free_sgd with momentum 1 and primal_averaging give the same parameters at steps 1..{STEPS} "
               r"for every lr and averaging schedule.",
       assumptions=r"$z_0 = x_0$; a change of variables solved at each step (the state is redundant, so no template).",
       expected="holds")
def sf_primal():
    result = equivalence(get("schedule_free_sgd", momentum=1), get("primal_averaging"), same_params=True,
                         symbolic=False, steps=STEPS, values=WITNESS)
    return _verdict(result, f"exact at steps 1..{STEPS}: ", "no change of variables: ")


@claim("SF-Polyak-Ruppert", source=SF + ", Sec. 2",
       statement=r"With $\beta = 0$ schedule-free SGD is Polyak-Ruppert averaging: $x$ averages plain SGD's iterates.",
       reading=f"schedule_free_sgd with momentum 0 and polyak_ruppert_sgd (the same averaging weights) are one "
               f"system under a change of variables, with the gradient at the same points, at steps 1..{STEPS}.",
       assumptions=r"$z_0 = x_0$; $\bar\theta_0 = \theta_0$.", expected="holds")
def sf_polyak_ruppert():
    result = equivalence(get("schedule_free_sgd", momentum=0), get("polyak_ruppert_sgd"), symbolic=False, steps=STEPS,
                         values=WITNESS)
    return _verdict(result, f"exact at steps 1..{STEPS}: ", "no change of variables: ")


@claim("SF-reference-weights", source=SF + ", Theorem 1 ($c_{t+1} = 1/(t+1)$); facebookresearch/schedule_free "
       "sgd_schedulefree_reference.py",
       statement=r"The reference implementation computes schedule-free SGD with $c_{t+1} = 1/(t+1)$ "
                 r"(constant lr, $x_1 = z_1$ the initial point).",
       reading=r"schedule_free_sgd with the paper's weights (averaging $1/(t+1)$ in this step numbering: the initial "
               r"point keeps weight $1/(t+1)$) and with the implementation's (weight $\gamma^2/\sum_{i \le t}\gamma^2 = 1/t$: "
               "its first step replaces x by z, so the initial point has weight 0) give the same parameters.",
       assumptions=r"constant lr, no warmup, $r = 0$.", expected="fails")
def sf_reference_weights():
    result = equivalence(get("schedule_free_sgd", averaging=1 / (t + 1)), get("schedule_free_sgd", averaging=1 / t),
                         same_params=True, symbolic=False, steps=STEPS, values=WITNESS)
    return _verdict(result, "the weights agree: ", r"they differ from step 1 on, unless $\beta = 0$: ")
