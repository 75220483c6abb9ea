"""PyTorch's text tutorials, written as their pages write them, run on symgrad and on
PyTorch (where installed) from the same weights: "Text classification with the torchtext
library" (``nn.EmbeddingBag`` with offsets, ``clip_grad_norm_``, ``StepLR``, a DataLoader with
``collate_fn``; the vocabulary built by hand) and "NLP From Scratch: classifying names with a
character-level RNN" (a hand-written RNN module updated through ``p.data.add_``).
"""
import random
import string
import unicodedata

import numpy as np
import pytest

from tutorial_checks import assert_same, assert_same_log, both_runs, initialise

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")


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
    log, theirs = both_runs(text_classification, 4)
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
    log, theirs = both_runs(names_classifier, 24)
    assert log[0] == [[0, 35]] and tuple(log[1]) == (5, 1, 57)
    if theirs is not None:
        assert log[:3] == theirs[:3]
        assert_same_log(log[3:-4] + log[-3] + log[-2], theirs[3:-4] + theirs[-3] + theirs[-2])
        assert_same(log[-4], theirs[-4])        # the confusion matrix
        assert_same(log[-1], theirs[-1])
