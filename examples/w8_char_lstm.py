"""W8: a character-level LSTM language model on W7's text (the project's own sources), with
``import symgrad as torch``: ``Embedding`` -> two-layer ``nn.LSTM(batch_first=True)`` ->
``Linear`` head, cross entropy, ``Adam`` and ``clip_grad_norm_``; trained eagerly and as one
compiled ``sg.train`` loop (the time loop unrolled in the trace), then sampled.

Run: ``python examples/w8_char_lstm.py [--mode eager|compiled|both] [--steps 200]``.
"""
import functools
from dataclasses import dataclass

import symgrad as torch
from symgrad import nn
from symgrad.nn import functional as F
import w7_char_gpt
from w7_char_gpt import batches, encode, load_text  # noqa: F401  (W8 reads W7's text)


@dataclass
class LSTMConfig:
    block_size: int = 32
    vocab_size: int = 128
    n_embd: int = 64
    hidden_size: int = 128
    num_layers: int = 2


class CharLSTM(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.lstm = nn.LSTM(config.n_embd, config.hidden_size, config.num_layers, batch_first=True)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, idx, targets=None, state=None):
        out, state = self.lstm(self.embedding(idx), state)
        logits = self.head(out)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss, state

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0):
        logits, _, state = self(idx)
        for _ in range(max_new_tokens):
            probs = F.softmax(logits[:, -1, :] / temperature, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
            logits, _, state = self(idx_next, state=state)
        return idx


def training_step(model, steps, learning_rate=2e-3, grad_clip=1.0):
    """Adam with gradient clipping; ``steps`` is unused (the same signature as W7's)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        _, loss, _ = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        return loss
    return step


train_eager = functools.partial(w7_char_gpt.train_eager, make_step=training_step)
train_compiled = functools.partial(w7_char_gpt.train_compiled, make_step=training_step)


if __name__ == "__main__":
    w7_char_gpt.main(CharLSTM, LSTMConfig, training_step, describe=None,
                     description=__doc__.splitlines()[0])
