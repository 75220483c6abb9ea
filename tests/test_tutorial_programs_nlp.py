"""PyTorch's NLP tutorials, written as their pages write them, run on symgrad and on PyTorch
(where installed) from the same weights: "Sequence Models and LSTM Networks" (the LSTM
part-of-speech tagger), "Word Embeddings" (the N-gram language model and a CBOW solution),
the text classification and char-RNN pages are in test_tutorial_programs_text.py, the
seq2seq translator in test_tutorial_programs_seq2seq.py. Sizes and epochs are smaller than
the pages'; the corpora are short inline texts.
"""
import pytest

from tutorial_checks import assert_same, both_runs, initialise

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")


def lstm_tagger(torch, epochs):
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    log = []
    lstm = nn.LSTM(3, 3)  # Input dim is 3, output dim is 3
    initialise(torch, lstm, 0)
    inputs = [torch.randn(1, 3) for _ in range(5)]  # make a sequence of length 5
    hidden = (torch.randn(1, 1, 3), torch.randn(1, 1, 3))
    for i in inputs:
        out, hidden = lstm(i.view(1, 1, -1), hidden)
    inputs = torch.cat(inputs).view(len(inputs), 1, -1)
    hidden = (torch.randn(1, 1, 3), torch.randn(1, 1, 3))  # clean out hidden state
    out, hidden = lstm(inputs, hidden)
    log += [out.detach().numpy().copy(), hidden[0].detach().numpy().copy()]

    def prepare_sequence(seq, to_ix):
        idxs = [to_ix[w] for w in seq]
        return torch.tensor(idxs, dtype=torch.long)

    training_data = [
        ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
        ("Everybody read that book".split(), ["NN", "V", "DET", "NN"])
    ]
    word_to_ix = {}
    for sent, tags in training_data:
        for word in sent:
            if word not in word_to_ix:  # word has not been assigned an index yet
                word_to_ix[word] = len(word_to_ix)  # Assign each word with a unique index
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}  # Assign each tag with a unique index
    EMBEDDING_DIM = 6
    HIDDEN_DIM = 6

    class LSTMTagger(nn.Module):

        def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
            super(LSTMTagger, self).__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            tag_scores = F.log_softmax(tag_space, dim=1)
            return tag_scores

    model = LSTMTagger(EMBEDDING_DIM, HIDDEN_DIM, len(word_to_ix), len(tag_to_ix))
    initialise(torch, model, 1)
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with torch.no_grad():
        inputs = prepare_sequence(training_data[0][0], word_to_ix)
        tag_scores = model(inputs)
        log.append(tag_scores.numpy().copy())
    for epoch in range(epochs):
        for sentence, tags in training_data:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = prepare_sequence(tags, tag_to_ix)
            tag_scores = model(sentence_in)
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
        log.append(loss.item())
    with torch.no_grad():
        inputs = prepare_sequence(training_data[0][0], word_to_ix)
        tag_scores = model(inputs)
        log += [tag_scores.numpy().copy(), tag_scores.argmax(1).tolist()]
    return log


def test_the_lstm_tagger_matches_pytorch():
    log, theirs = both_runs(lstm_tagger, 6, noise=("randn",))
    assert log[-3] < log[3]
    if theirs is not None:
        assert log[-1] == theirs[-1]
        for ours_entry, their_entry in zip(log[:-1], theirs[:-1]):
            assert_same(ours_entry, their_entry)


SONNET = """When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now,
Will be a totter'd weed of small worth held:
Then being asked, where all thy beauty lies,""".split()

SICP = """We are about to study the idea of a computational process.
Computational processes are abstract beings that inhabit computers.
As they evolve, processes manipulate other abstract things called data.""".split()


def ngram_model(torch, test_sentence, epochs):
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    CONTEXT_SIZE = 2
    EMBEDDING_DIM = 10
    ngrams = [
        (
            [test_sentence[i - j - 1] for j in range(CONTEXT_SIZE)],
            test_sentence[i]
        )
        for i in range(CONTEXT_SIZE, len(test_sentence))
    ]
    vocab = set(test_sentence)
    word_to_ix = {word: i for i, word in enumerate(vocab)}

    class NGramLanguageModeler(nn.Module):

        def __init__(self, vocab_size, embedding_dim, context_size):
            super(NGramLanguageModeler, self).__init__()
            self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.linear1 = nn.Linear(context_size * embedding_dim, 128)
            self.linear2 = nn.Linear(128, vocab_size)

        def forward(self, inputs):
            embeds = self.embeddings(inputs).view((1, -1))
            out = F.relu(self.linear1(embeds))
            out = self.linear2(out)
            log_probs = F.log_softmax(out, dim=1)
            return log_probs

    losses = []
    loss_function = nn.NLLLoss()
    model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
    initialise(torch, model, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        total_loss = 0
        for context, target in ngrams:
            context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
            model.zero_grad()
            log_probs = model(context_idxs)
            loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    return losses + [model.embeddings.weight[word_to_ix["beauty"]].detach().numpy().copy()]


def cbow_model(torch, raw_text, epochs, bag):
    """The page's CBOW exercise, solved: context embeddings summed (by hand, or by an
    ``nn.EmbeddingBag(mode='sum')`` when ``bag``), a linear layer, log_softmax."""
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    CONTEXT_SIZE = 2  # 2 words to the left, 2 to the right
    vocab = set(raw_text)
    vocab_size = len(vocab)
    word_to_ix = {word: i for i, word in enumerate(vocab)}
    data = []
    for i in range(CONTEXT_SIZE, len(raw_text) - CONTEXT_SIZE):
        context = (
            [raw_text[i - j - 1] for j in range(CONTEXT_SIZE)]
            + [raw_text[i + j + 1] for j in range(CONTEXT_SIZE)]
        )
        target = raw_text[i]
        data.append((context, target))

    class CBOW(nn.Module):

        def __init__(self, vocab_size, embedding_dim):
            super().__init__()
            if bag:
                self.embeddings = nn.EmbeddingBag(vocab_size, embedding_dim, mode="sum")
            else:
                self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.linear = nn.Linear(embedding_dim, vocab_size)

        def forward(self, inputs):
            if bag:
                embeds = self.embeddings(inputs.view(1, -1))
            else:
                embeds = self.embeddings(inputs).sum(dim=0).view(1, -1)
            return F.log_softmax(self.linear(embeds), dim=1)

    def make_context_vector(context, word_to_ix):
        idxs = [word_to_ix[w] for w in context]
        return torch.tensor(idxs, dtype=torch.long)

    model = initialise(torch, CBOW(vocab_size, 8), 3)
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    loss_function = nn.NLLLoss()
    losses = [make_context_vector(data[0][0], word_to_ix).tolist()]
    for epoch in range(epochs):
        total_loss = 0.0
        for context, target in data:
            optimizer.zero_grad()
            log_probs = model(make_context_vector(context, word_to_ix))
            loss = loss_function(log_probs, torch.tensor([word_to_ix[target]]))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    return losses + [model.embeddings.weight.detach().numpy().copy()]


def test_the_ngram_language_model_matches_pytorch():
    log, theirs = both_runs(ngram_model, SONNET, 3)
    assert log[2] < log[0]
    if theirs is not None:
        for ours_entry, their_entry in zip(log, theirs):
            assert_same(ours_entry, their_entry)


@pytest.mark.parametrize("bag", [False, True])
def test_cbow_matches_pytorch_with_embedding_or_embedding_bag(bag):
    log, theirs = both_runs(cbow_model, SICP, 3, bag)
    assert log[3] < log[1]
    if theirs is not None:
        assert log[0] == theirs[0]
        for ours_entry, their_entry in zip(log[1:], theirs[1:]):
            assert_same(ours_entry, their_entry)
    without_bag, _ = both_runs(cbow_model, SICP, 3, not bag)
    for with_entry, without_entry in zip(log[1:], without_bag[1:]):
        assert_same(with_entry, without_entry)
