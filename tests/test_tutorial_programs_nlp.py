"""PyTorch's NLP tutorials, written as their pages write them, run on symgrad and on PyTorch
(where installed) from the same weights: "Sequence Models and LSTM Networks" (the LSTM
part-of-speech tagger), "Word Embeddings" (the N-gram language model and a CBOW solution),
"Text classification" (``nn.EmbeddingBag`` with offsets, ``clip_grad_norm_``, ``StepLR``),
"NLP From Scratch: classifying names with a character-level RNN" (a hand-written RNN module
updated through ``p.data.add_``) and "NLP From Scratch: translation with a sequence to
sequence network and attention" (GRU encoder, Bahdanau attention decoder, teacher forcing).
Sizes and epochs are smaller than the pages'; the corpora are short inline texts.
"""
import random
import string
import unicodedata

import numpy as np
import pytest

from tutorial_checks import Noise, assert_same, initialise, libraries

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")


def _both(program, *args, noise=None):
    """The program's log on symgrad, and on PyTorch (None without it); ``noise`` names the
    random functions whose draws PyTorch's run records and symgrad's replays."""
    ours, torch = libraries()
    if torch is None:
        return program(ours, *args), None
    draws = Noise()
    with draws.recording(torch, *(noise or ())):
        theirs = program(torch, *args)
    with draws.replaying(ours, *(noise or ())):
        log = program(ours, *args)
    return log, theirs


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
    log, theirs = _both(lstm_tagger, 6, noise=("randn",))
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
    log, theirs = _both(ngram_model, SONNET, 3)
    assert log[2] < log[0]
    if theirs is not None:
        for ours_entry, their_entry in zip(log, theirs):
            assert_same(ours_entry, their_entry)


@pytest.mark.parametrize("bag", [False, True])
def test_cbow_matches_pytorch_with_embedding_or_embedding_bag(bag):
    log, theirs = _both(cbow_model, SICP, 3, bag)
    assert log[3] < log[1]
    if theirs is not None:
        assert log[0] == theirs[0]
        for ours_entry, their_entry in zip(log[1:], theirs[1:]):
            assert_same(ours_entry, their_entry)
    without_bag, _ = _both(cbow_model, SICP, 3, not bag)
    for with_entry, without_entry in zip(log[1:], without_bag[1:]):
        assert_same(with_entry, without_entry)


NEWS = [(1, "stocks rally as markets rise"), (2, "team wins the cup final"),
        (3, "new phone chip is fast"), (4, "rain and storms expected"),
        (1, "markets fall on rate fears"), (2, "star striker scores twice"),
        (3, "software update fixes bug"), (4, "sunny weekend ahead"),
        (1, "bank shares rise"), (2, "coach praises the team"),
        (3, "chip maker shares new phone"), (4, "storms move east")]


def text_classification(torch, epochs):
    """"Text classification with the torchtext library", its vocabulary built by hand."""
    nn = torch.nn
    from collections import Counter
    tokenizer = str.split
    counts = Counter(token for _, text in NEWS for token in tokenizer(text))
    itos = ["<unk>"] + sorted(counts)
    vocab = {token: index for index, token in enumerate(itos)}
    text_pipeline = lambda x: [vocab.get(token, 0) for token in tokenizer(x)]  # noqa: E731
    label_pipeline = lambda x: int(x) - 1  # noqa: E731
    device = torch.device("cpu")

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(label_pipeline(_label))
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list.to(device), text_list.to(device), offsets.to(device)

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super(TextClassificationModel, self).__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            embedded = self.embedding(text, offsets)
            return self.fc(embedded)

    num_class = len(set([label for (label, text) in NEWS]))
    vocab_size = len(vocab)
    emsize = 16
    model = TextClassificationModel(vocab_size, emsize, num_class).to(device)
    initialise(torch, model, 4, scale=2.0)
    log = []

    def train(dataloader):
        model.train()
        total_acc, total_count = 0, 0
        for idx, (label, text, offsets) in enumerate(dataloader):
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
            log.append(loss.item())

    def evaluate(dataloader):
        model.eval()
        total_acc, total_count = 0, 0
        with torch.no_grad():
            for idx, (label, text, offsets) in enumerate(dataloader):
                predicted_label = model(text, offsets)
                loss = criterion(predicted_label, label)
                total_acc += (predicted_label.argmax(1) == label).sum().item()
                total_count += label.size(0)
        return total_acc / total_count

    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    total_accu = None
    train_dataloader = torch.utils.data.DataLoader(NEWS[:8], batch_size=4, shuffle=False,
                                                   collate_fn=collate_batch)
    valid_dataloader = torch.utils.data.DataLoader(NEWS[8:], batch_size=4, shuffle=False,
                                                   collate_fn=collate_batch)
    for epoch in range(1, epochs + 1):
        train(train_dataloader)
        accu_val = evaluate(valid_dataloader)
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        log += [accu_val, scheduler.get_last_lr()[0]]
    return log + [model.embedding.weight.detach().numpy().copy()]


def test_text_classification_with_embedding_bag_matches_pytorch():
    log, theirs = _both(text_classification, 4)
    assert all(np.isfinite(log[:-1]))
    if theirs is not None:
        for ours_entry, their_entry in zip(log, theirs):
            assert_same(ours_entry, their_entry)


NAMES = {"English": ["Abbott", "Baker", "Clarke"], "French": ["Béranger", "Dubois", "Lefèvre"],
         "Italian": ["Abbadelli", "Rossi", "Ricci"], "Japanese": ["Abe", "Sato", "Tanaka"]}


def names_classifier(torch, iterations):
    """Classifying names with a character-level RNN (the page's own RNN module)."""
    nn = torch.nn
    all_letters = string.ascii_letters + " .,;'"
    n_letters = len(all_letters)

    def unicodeToAscii(s):
        return ''.join(
            c for c in unicodedata.normalize('NFD', s)
            if unicodedata.category(c) != 'Mn'
            and c in all_letters
        )
    category_lines = {category: [unicodeToAscii(line) for line in lines]
                      for category, lines in NAMES.items()}
    all_categories = list(category_lines)
    n_categories = len(all_categories)

    def letterToIndex(letter):
        return all_letters.find(letter)

    def letterToTensor(letter):
        tensor = torch.zeros(1, n_letters)
        tensor[0][letterToIndex(letter)] = 1
        return tensor

    def lineToTensor(line):
        tensor = torch.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][letterToIndex(letter)] = 1
        return tensor

    log = [letterToTensor('J').nonzero().tolist(), lineToTensor('Jones').size()]

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(RNN, self).__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(input_size + hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), 1)
            hidden = self.i2h(combined)
            output = self.i2o(combined)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):
            return torch.zeros(1, self.hidden_size)

    n_hidden = 16
    rnn = initialise(torch, RNN(n_letters, n_hidden, n_categories), 5)
    input = lineToTensor('Albert')
    hidden = torch.zeros(1, n_hidden)
    output, next_hidden = rnn(input[0], hidden)

    def categoryFromOutput(output):
        top_n, top_i = output.topk(1)
        category_i = top_i[0].item()
        return all_categories[category_i], category_i
    log.append(categoryFromOutput(output))

    def randomChoice(l):
        return l[rng.randint(0, len(l) - 1)]

    def randomTrainingExample():
        category = randomChoice(all_categories)
        line = randomChoice(category_lines[category])
        category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
        line_tensor = lineToTensor(line)
        return category, line, category_tensor, line_tensor

    criterion = nn.NLLLoss()
    learning_rate = 0.05

    def train(category_tensor, line_tensor):
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        # Add parameters' gradients to their values, multiplied by learning rate
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item()

    rng = random.Random(0)
    current_loss = 0
    for iter in range(1, iterations + 1):
        category, line, category_tensor, line_tensor = randomTrainingExample()
        output, loss = train(category_tensor, line_tensor)
        current_loss += loss
        guess, guess_i = categoryFromOutput(output)
        correct = '✓' if guess == category else '✗ (%s)' % category
        log.append('%d %.4f %s / %s %s' % (iter, loss, line, guess, correct))

    def evaluate(line_tensor):
        hidden = rnn.initHidden()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        return output

    confusion = torch.zeros(n_categories, n_categories)
    for category in all_categories:
        for line in category_lines[category]:
            output = evaluate(lineToTensor(line))
            guess, guess_i = categoryFromOutput(output)
            category_i = all_categories.index(category)
            confusion[category_i][guess_i] += 1
    for i in range(n_categories):
        confusion[i] = confusion[i] / confusion[i].sum()
    log.append(confusion.tolist())

    def predict(input_line, n_predictions=3):
        predictions = []
        with torch.no_grad():
            output = evaluate(lineToTensor(input_line))
            topv, topi = output.topk(n_predictions, 1, True)
            for i in range(n_predictions):
                value = topv[0][i].item()
                category_index = topi[0][i].item()
                predictions.append('(%.2f) %s' % (value, all_categories[category_index]))
        return predictions
    return log + [predict('Dovesky'), predict('Satoshi'), rnn.i2o.weight.detach().numpy().copy()]


def test_the_char_rnn_names_classifier_matches_pytorch():
    log, theirs = _both(names_classifier, 24)
    assert log[0] == [[0, 35]] and tuple(log[1]) == (5, 1, 57)
    if theirs is not None:
        assert log[:-1] == theirs[:-1]
        assert_same(log[-1], theirs[-1])
