"""A character-level recurrent network in plain numpy, its parameters a dict, trained by
``sg.grad`` to predict a text string one character at a time (HIPS autograd's
``examples/rnn.py``: ``np.hstack``, ``np.repeat``, ``logsumexp`` and a Python loop over time
steps that the trace unrolls).

Run: ``python examples/numpy_char_rnn.py``.
"""
import numpy as np
import symgrad as sg
from symgrad import logsumexp     # scipy.special.logsumexp's signature, on traced values

TEXT = ["the quick brown fox jumps over",
        "a lazy dog, and then it sleeps",
        "symgrad traces numpy code once"]


def sigmoid(x):
    return 0.5 * (np.tanh(x) + 1.0)


def concat_and_multiply(weights, *args):
    cat_state = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return np.dot(cat_state, weights)


def create_rnn_params(input_size, state_size, output_size, param_scale=0.01,
                      rs=np.random.RandomState(0)):
    return {"init hiddens": rs.randn(1, state_size) * param_scale,
            "change": rs.randn(input_size + state_size + 1, state_size) * param_scale,
            "predict": rs.randn(state_size + 1, output_size) * param_scale}


def rnn_predict(params, inputs):
    def update_rnn(input, hiddens):
        return np.tanh(concat_and_multiply(params["change"], input, hiddens))

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params["predict"], hiddens)
        return output - logsumexp(output, axis=1, keepdims=True)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:                     # the time steps
        hiddens = update_rnn(input, hiddens)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def rnn_log_likelihood(params, inputs, targets):
    logprobs = rnn_predict(params, inputs)
    loglik = 0.0
    num_time_steps, num_examples, _ = inputs.shape
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return loglik / (num_time_steps * num_examples)


def one_hot_text(lines, alphabet, length):
    """(length, lines, characters) one-hot codes of ``lines`` padded with spaces."""
    codes = np.zeros((length, len(lines), len(alphabet)))
    for column, line in enumerate(lines):
        for t, char in enumerate((line + " " * length)[:length]):
            codes[t, column, alphabet.index(char)] = 1.0
    return codes


def train(steps=60, step_size=0.1, state_size=16, length=12):
    alphabet = sorted(set("".join(TEXT)) | {" "})
    inputs = one_hot_text(TEXT, alphabet, length)
    params = create_rnn_params(len(alphabet), state_size, len(alphabet), param_scale=0.1)

    def training_loss(params):
        return -rnn_log_likelihood(params, inputs, inputs)
    gradient = sg.grad(training_loss)
    losses = []
    for _ in range(steps):                  # plain gradient descent on the dict of arrays
        losses.append(float(training_loss(params)))
        g = gradient(params)
        params = {name: params[name] - step_size * g[name] for name in params}
    return params, losses


if __name__ == "__main__":
    params, losses = train()
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {len(losses)} steps")
