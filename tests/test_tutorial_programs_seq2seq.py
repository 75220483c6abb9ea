"""PyTorch's "NLP From Scratch: Translation with a Sequence to Sequence Network and
Attention", written as the page writes it (``Lang``, a GRU ``EncoderRNN``,
``BahdanauAttention`` with ``torch.bmm``, an ``AttnDecoderRNN`` with teacher forcing and
``topk`` decoding, two Adam optimizers, ``NLLLoss``), on a few inline sentence pairs, run on
symgrad and on PyTorch (where installed) from the same weights and dropout masks.
"""
import numpy as np
import pytest

from tutorial_checks import DropoutMasks, assert_same, initialise, libraries

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")

PAIRS = [("je suis froid", "i am cold"), ("il est grand", "he is tall"),
         ("elle est petite", "she is small"), ("je suis grand", "i am tall")]
SOS_token, EOS_token, MAX_LENGTH = 0, 1, 5


class Lang:
    def __init__(self, name):
        self.name = name
        self.word2index = {}
        self.word2count = {}
        self.index2word = {0: "SOS", 1: "EOS"}
        self.n_words = 2  # Count SOS and EOS

    def addSentence(self, sentence):
        for word in sentence.split(' '):
            self.addWord(word)

    def addWord(self, word):
        if word not in self.word2index:
            self.word2index[word] = self.n_words
            self.word2count[word] = 1
            self.index2word[self.n_words] = word
            self.n_words += 1
        else:
            self.word2count[word] += 1


def translation(torch, epochs, dropout_p):
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    device = torch.device("cpu")
    input_lang, output_lang = Lang("fra"), Lang("eng")
    for pair in PAIRS:
        input_lang.addSentence(pair[0])
        output_lang.addSentence(pair[1])

    def indexesFromSentence(lang, sentence):
        return [lang.word2index[word] for word in sentence.split(' ')]

    def tensorFromSentence(lang, sentence):
        indexes = indexesFromSentence(lang, sentence)
        indexes.append(EOS_token)
        return torch.tensor(indexes, dtype=torch.long, device=device).view(1, -1)

    def get_dataloader(batch_size):
        n = len(PAIRS)
        input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
        target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
        for idx, (inp, tgt) in enumerate(PAIRS):
            inp_ids = indexesFromSentence(input_lang, inp)
            tgt_ids = indexesFromSentence(output_lang, tgt)
            inp_ids.append(EOS_token)
            tgt_ids.append(EOS_token)
            input_ids[idx, :len(inp_ids)] = inp_ids
            target_ids[idx, :len(tgt_ids)] = tgt_ids
        train_data = torch.utils.data.TensorDataset(torch.LongTensor(input_ids).to(device),
                                                    torch.LongTensor(target_ids).to(device))
        train_sampler = torch.utils.data.SequentialSampler(train_data)
        return torch.utils.data.DataLoader(train_data, sampler=train_sampler,
                                           batch_size=batch_size)

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super(EncoderRNN, self).__init__()
            self.hidden_size = hidden_size
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super(BahdanauAttention, self).__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)
            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super(AttnDecoderRNN, self).__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long,
                                        device=device).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            attentions = []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs
                )
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:
                    # Teacher forcing: Feed the target as the next input
                    decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
                else:
                    # Without teacher forcing: use its own predictions as the next input
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()  # detach from history as input
            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = torch.cat(attentions, dim=1)
            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))
            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = torch.cat((embedded, context), dim=2)
            output, hidden = self.gru(input_gru, hidden)
            output = self.out(output)
            return output, hidden, attn_weights

    def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer,
                    criterion):
        total_loss = 0
        for data in dataloader:
            input_tensor, target_tensor = data
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)
            loss = criterion(
                decoder_outputs.view(-1, decoder_outputs.size(-1)),
                target_tensor.view(-1)
            )
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        return total_loss / len(dataloader)

    def evaluate(encoder, decoder, sentence, input_lang, output_lang):
        with torch.no_grad():
            input_tensor = tensorFromSentence(input_lang, sentence)
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs,
                                                                    encoder_hidden)
            _, topi = decoder_outputs.topk(1)
            decoded_ids = topi.squeeze()
            decoded_words = []
            for idx in decoded_ids:
                if idx.item() == EOS_token:
                    decoded_words.append('<EOS>')
                    break
                decoded_words.append(output_lang.index2word[idx.item()])
        return decoded_words, decoder_attn

    hidden_size = 8
    encoder = EncoderRNN(input_lang.n_words, hidden_size, dropout_p).to(device)
    decoder = AttnDecoderRNN(hidden_size, output_lang.n_words, dropout_p).to(device)
    initialise(torch, encoder, 0, scale=2.0)
    initialise(torch, decoder, 1, scale=2.0)
    train_dataloader = get_dataloader(batch_size=2)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()
    log = [train_epoch(train_dataloader, encoder, decoder, encoder_optimizer,
                       decoder_optimizer, criterion) for epoch in range(epochs)]
    encoder.eval()
    decoder.eval()
    words, attentions = evaluate(encoder, decoder, PAIRS[0][0], input_lang, output_lang)
    return log + [' '.join(words), attentions.numpy().copy()]


def test_the_attention_translator_matches_pytorch():
    ours, torch = libraries()
    log = translation(ours, 4, dropout_p=0.0)
    assert log[3] < log[0]
    if torch is not None:
        theirs = translation(torch, 4, dropout_p=0.0)
        assert log[-2] == theirs[-2]
        assert_same(log[:-2], theirs[:-2])
        assert_same(log[-1], theirs[-1])


def test_the_attention_translator_with_dropout_matches_pytorch():
    ours, torch = libraries()
    if torch is None:
        pytest.skip("PyTorch is not installed: the dropout masks are PyTorch's")
    masks = DropoutMasks()
    with masks.recording(torch):
        theirs = translation(torch, 2, dropout_p=0.1)
    with masks.replaying(ours):
        log = translation(ours, 2, dropout_p=0.1)
    assert log[-2] == theirs[-2]
    assert_same(log[:-2], theirs[:-2])
