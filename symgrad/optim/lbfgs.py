"""L-BFGS with PyTorch's algorithm (``torch.optim.LBFGS``): a closure re-evaluates the loss,
the two-loop recursion over the last ``history_size`` steps gives the direction, and the
step length is ``lr`` or, with ``line_search_fn="strong_wolfe"``, a strong-Wolfe line search
by cubic interpolation. It runs eagerly only: its loop stops and branches on the values of
the loss, so it cannot be one compiled step of ``sg.train``.

>>> import symgrad as torch
>>> from symgrad import optim
>>> w = torch.tensor([3.0, -2.0], requires_grad=True)
>>> opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
>>> def closure():
...     opt.zero_grad()
...     loss = ((w - 1) ** 2).sum()
...     loss.backward()
...     return loss
>>> _ = opt.step(closure)
>>> [round(v, 4) for v in w.tolist()]
[1.0, 1.0]
"""
import numpy as np

from symgrad.core.tracing import Tracer
from symgrad.eager.grad_mode import enable_grad, no_grad
from symgrad.optim.line_search import strong_wolfe
from symgrad.optim.optimizer import Optimizer, _check_number


class LBFGS(Optimizer):
    #: state entries over all parameters flattened (not of the first parameter's shape)
    _flat_state_keys = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                        "prev_loss", "al")

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        _check_number("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # -- the parameters as one flat vector -------------------------------------------------------
    def _gather_flat_grad(self):
        return np.concatenate([np.zeros(p.numel(), np.dtype(p.dtype)) if p.grad is None
                               else np.asarray(p.grad._value).reshape(-1)
                               for p in self._params])

    def _add_grad(self, step_size, update):
        offset = 0
        for p in self._params:
            count = p.numel()
            value = p._value
            value += (step_size * update[offset:offset + count]).reshape(value.shape).astype(
                value.dtype)
            p._version += 1
            offset += count

    def _clone_param(self):
        return [np.array(p._value) for p in self._params]

    def _set_param(self, values):
        for p, value in zip(self._params, values):
            np.copyto(p._value, value)
            p._version += 1

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return loss, float(loss)

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        _, loss = self._evaluate(closure)
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; ``closure`` clears the gradients, computes
        the loss, calls ``backward`` and returns the loss. Returns the first loss."""
        if any(isinstance(p._value, Tracer) for p in self._params):
            raise TypeError("LBFGS.step() cannot run inside sg.train's compiled step: its "
                            "iterations stop and branch on the loss's values; run the "
                            "training loop eagerly")
        with no_grad():
            return self._iterate(closure)

    def _iterate(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss, loss = self._evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        history = [state.get(k) for k in ("old_dirs", "old_stps", "ro")]
        H_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, history, H_diag = -flat_grad, [[], [], []], 1
            else:
                H_diag = self._remember(flat_grad - prev_flat_grad, d * t, history, H_diag,
                                        group["history_size"])
                d = self._direction(flat_grad, history, H_diag, state, group["history_size"])
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break
            loss, flat_grad, t, ls_func_evals = self._move(
                closure, group, d, t, loss, flat_grad, gtd, max_eval - current_evals,
                evaluate_after=n_iter != max_iter)
            opt_cond = ls_func_evals > 0 and np.abs(flat_grad).max() <= tolerance_grad
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        state.update(d=d, t=t, old_dirs=history[0], old_stps=history[1], ro=history[2],
                     H_diag=H_diag, prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def _move(self, closure, group, d, t, loss, flat_grad, gtd, evaluations_left,
              evaluate_after):
        """Step along ``d``: by the strong-Wolfe search, else by ``t`` (then evaluating the
        loss again unless this is the last iteration). Returns (loss, flat gradient, step,
        evaluations made)."""
        if group["line_search_fn"] is not None:
            if group["line_search_fn"] != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            loss, flat_grad, t, evaluations = strong_wolfe(
                lambda x, step, direction: self._directional_evaluate(closure, x, step,
                                                                      direction),
                self._clone_param(), t, d, loss, flat_grad, gtd, max_ls=evaluations_left)
            self._add_grad(t, d)
            return loss, flat_grad, t, evaluations
        self._add_grad(t, d)
        if not evaluate_after:
            return loss, flat_grad, t, 0
        _, loss = self._evaluate(closure)
        return loss, self._gather_flat_grad(), t, 1

    @staticmethod
    def _remember(y, s, history, H_diag, history_size):
        """Keep the curvature pair (y, s) when it is positive; the new diagonal scale."""
        old_dirs, old_stps, ro = history
        ys = y.dot(s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:
                for entries in history:
                    entries.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            H_diag = ys / y.dot(y)
        return H_diag

    @staticmethod
    def _direction(flat_grad, history, H_diag, state, history_size):
        """The two-loop recursion: the inverse-Hessian estimate times -grad."""
        old_dirs, old_stps, ro = history
        if "al" not in state:
            state["al"] = [None] * history_size
        al = state["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q = q - al[i] * old_dirs[i]
        r = q * H_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r = r + (al[i] - be_i) * old_stps[i]
        return r
