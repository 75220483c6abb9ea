"""The strong-Wolfe line search of PyTorch's L-BFGS (``torch.optim.lbfgs._strong_wolfe``):
bracket a step satisfying the sufficient-decrease and curvature conditions, then zoom in by
safeguarded cubic interpolation. Works on numpy vectors; ``evaluate(x, t, d)`` returns the
loss and flat gradient at ``x + t d``.

>>> round(cubic_interpolate(0.0, 1.0, -1.0, 1.0, 1.0, 1.0), 6)
0.5
"""
import math


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), within bounds."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (
        (x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


class _Bracket:
    """The search interval: steps, losses, gradients and directional derivatives."""

    def __init__(self, steps, losses, grads, slopes):
        self.t, self.f, self.g, self.gtd = list(steps), list(losses), list(grads), list(slopes)

    def set(self, position, t, f, g, gtd):
        self.t[position], self.f[position], self.g[position], self.gtd[position] = t, f, g, gtd

    def ordered(self):
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)


def _bracket_phase(evaluate, x, t, d, f, g, gtd, c1, c2, max_ls):
    """Grow the step until the minimum is bracketed (or a Wolfe step is found)."""
    f_new, g_new = evaluate(x, t, d)
    evals, gtd_new = 1, g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    ls_iter = 0
    while ls_iter < max_ls:
        sufficient = not (f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev))
        if sufficient and abs(gtd_new) <= -c2 * gtd:
            return _Bracket([t], [f_new], [g_new], [gtd_new]), True, ls_iter, evals
        if not sufficient or gtd_new >= 0:
            return _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()],
                            [gtd_prev, gtd_new]), False, ls_iter, evals
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                         bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    return _Bracket([0, t], [f, f_new], [g, g_new], [gtd, gtd_new]), False, ls_iter, evals


def _zoom_step(bracket, insuf_progress):
    """The next trial step inside the bracket, kept away from its ends."""
    t = cubic_interpolate(bracket.t[0], bracket.f[0], bracket.gtd[0], bracket.t[1],
                          bracket.f[1], bracket.gtd[1])
    high, low = max(bracket.t), min(bracket.t)
    eps = 0.1 * (high - low)
    if min(high - t, t - low) < eps:
        if insuf_progress or t >= high or t <= low:
            return (high - eps if abs(t - high) < abs(t - low) else low + eps), False
        return t, True
    return t, False


def strong_wolfe(evaluate, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """(loss, flat gradient, step, evaluations) at a step satisfying the strong Wolfe
    conditions along ``d`` from ``x`` (PyTorch's algorithm, step for step)."""
    d_norm = abs(d).max()
    bracket, done, ls_iter, evals = _bracket_phase(evaluate, x, t, d, f, g.copy(), gtd, c1, c2,
                                                   max_ls)
    insuf_progress = False
    low_pos, high_pos = bracket.ordered()
    while not done and ls_iter < max_ls:
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t, insuf_progress = _zoom_step(bracket, insuf_progress)
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket.f[low_pos]:
            bracket.set(high_pos, t, f_new, g_new.copy(), gtd_new)
            low_pos, high_pos = (0, 1) if bracket.f[0] <= bracket.f[1] else (1, 0)
            continue
        if abs(gtd_new) <= -c2 * gtd:
            done = True
        elif gtd_new * (bracket.t[high_pos] - bracket.t[low_pos]) >= 0:
            bracket.set(high_pos, bracket.t[low_pos], bracket.f[low_pos], bracket.g[low_pos],
                        bracket.gtd[low_pos])
        bracket.set(low_pos, t, f_new, g_new.copy(), gtd_new)
    return bracket.f[low_pos], bracket.g[low_pos], bracket.t[low_pos], evals
