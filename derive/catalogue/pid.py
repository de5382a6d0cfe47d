r"""PID control as an optimizer (Recht 2018), in a module of its own.

Apart from :mod:`derive.catalogue.literature` so that the other literature entries' source (which
keys the verdict and map caches) is unchanged by it, as :mod:`derive.catalogue.two_state` is.
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import entry
from derive.catalogue.literature import beta
from derive.formulation import Assign, Formulation
from derive.hyperparameters import InvalidHyperparameter, exact, resolve
from derive.symbols import g, t, theta

w_pid = sp.IndexedBase("W", real=True)  # the integral term k_I w (Recht's w scaled by its gain)
v_pid = sp.IndexedBase("vD", real=True)  # the filtered derivative of the error, one measurement behind
e_pid = sp.IndexedBase("e", real=True)  # the last error measured, e = -f'(u)
k_I = sp.Symbol("k_I", real=True)
k_D = sp.Symbol("k_D", real=True)

RECHT = ("Recht, The best things in life are model free (An outsider's tour of reinforcement learning, part 10), "
         "argmin.net 2018-04-19, sections 'PID in discrete time' and 'Proportional integral derivative control' "
         "(benjamin-recht/benjamin-recht.github.io _posts/2018-04-19-pid.md)")


def proportional_gain(k_d, b) -> sp.Expr:
    """The k_P that makes Recht's PID an explicit method: C_3 = k_P + (1 - beta) k_D = 0."""
    return -(1 - b) * k_d


@entry
def pid_control(*, k_I=None, k_D=None, filter=None, k_P=None) -> Formulation:
    r"""Recht's discrete PID controller driving the error :math:`e = -f'(u)` to zero.

    .. math:: w_{t+1} = w_t + e_t, \qquad v_t = \beta v_{t-1} + (1-\beta)(e_t - e_{t-1}), \qquad
              u_t = k_P e_t + k_I w_t + k_D v_t, \qquad e_t = -f'(u_t)

    :math:`u_t` reads :math:`e_t = -f'(u_t)` itself with the factor
    :math:`C_3 = k_P + (1-\beta) k_D`; it is an explicit optimizer (a linear system in the
    gradients) only where :math:`C_3 = 0`, as in both of the blog's examples (heavy ball and
    Nesterov), so :math:`k_P = -(1-\beta) k_D` here.  Then
    :math:`u_t = k_I w_t + k_D(\beta v_{t-1} - (1-\beta) e_{t-1})` with :math:`w_t = w_{t-1} + e_{t-1}`.
    Step :math:`t` measures :math:`e_{t-1} = -g_t` at :math:`u_{t-1}`; the state holds the integral
    term :math:`W_t = k_I w_t`, :math:`v_{t-1}` and :math:`e_{t-1}`, starting from :math:`v = e = 0`
    (nothing measured yet) and :math:`W_0 = u_0` (the integrator holds the start; the blog's
    :math:`w_0 = 0` is :math:`u_0 = 0`).
    """
    ki, kd = resolve(k_I, globals()["k_I"], "k_I"), resolve(k_D, globals()["k_D"], "k_D")
    b = resolve(filter, beta, "filter")
    if k_P is not None:  # accepted only where it is the explicit method's
        kp = exact(k_P, "k_P")
        if sp.simplify(kp - proportional_gain(kd, b)) != 0:
            raise InvalidHyperparameter(
                f"pid_control with k_P={k_P}: k_P + (1 - beta) k_D = {sp.simplify(kp + (1 - b) * kd)} is not 0, so u_t "
                "needs f'(u_t) itself (a proximal step, not a linear optimizer); omit k_P or set k_P = -(1 - beta) k_D")
    error = -g[t]  # e_{t-1} = -f'(u_{t-1}), measured at the last output
    return Formulation(
        name="pid_control",
        title="PID control (Recht 2018)",
        citation=RECHT + "; the explicit form (the proportional gain set by the derivative gain and the filter), "
                 "the integrator started at the initial point, the derivative and the error 0 before the first measurement",
        state=(theta, w_pid, v_pid, e_pid),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(v_pid[t], b * v_pid[t - 1] + (1 - b) * (error - e_pid[t - 1])),
            Assign(w_pid[t], w_pid[t - 1] + ki * error),
            Assign(theta[t], w_pid[t] + kd * (b * v_pid[t] - (1 - b) * error)),
            Assign(e_pid[t], error),
        ),
        init={w_pid: theta[0], v_pid: 0, e_pid: 0},
        hyper={"k_I": ki, "k_D": kd, "filter": b},
    )
