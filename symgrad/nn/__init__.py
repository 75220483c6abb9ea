"""Neural network building blocks with PyTorch's names: ``Module``, ``Parameter``, layers,
containers, losses, ``functional`` and ``init``.

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10))
>>> print(model)
Sequential(
  (0): Linear(in_features=1000, out_features=100, bias=True)
  (1): ReLU()
  (2): Linear(in_features=100, out_features=10, bias=True)
)
"""
from symgrad.nn.parameter import Parameter
from symgrad.nn.module import Module
from symgrad.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from symgrad.nn.layers import (Flatten, Identity, Linear, LogSoftmax, ReLU, Sigmoid, Softmax,
                               Tanh, Unflatten)
from symgrad.nn.loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,
                             GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                             MarginRankingLoss, MSELoss, MultiLabelMarginLoss,
                             MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss, PoissonNLLLoss,
                             SmoothL1Loss, SoftMarginLoss, TripletMarginLoss)
from symgrad.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from symgrad.nn.sparse import Embedding, EmbeddingBag
from symgrad.nn.spatial import AdaptiveAvgPool2d, Conv1d, ConvTranspose2d, Upsample
from symgrad.nn.dropout import Dropout, Dropout1d, Dropout2d
from symgrad.nn.activation import ELU, GELU, Hardtanh, LeakyReLU, Mish, ReLU6, SiLU, Softplus
from symgrad.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from symgrad.nn.rnn import GRU, LSTM, RNN
from symgrad.nn.attention import MultiheadAttention
from symgrad.nn.rnn_cells import GRUCell, LSTMCell, RNNCell
from symgrad.nn.activation_more import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish,
                                        LogSigmoid, PReLU, RReLU, Softmax2d, Softmin, Softshrink,
                                        Softsign, Tanhshrink, Threshold)
from symgrad.nn.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d,
                                ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
                                ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                                ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from symgrad.nn.normalization_instance import (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
                                               LocalResponseNorm)
from symgrad.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                    TransformerEncoder, TransformerEncoderLayer)
from symgrad.nn.distance import Bilinear, CosineSimilarity, PairwiseDistance
from symgrad.nn.pooling import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                                AvgPool1d, Fold, MaxPool1d, PixelShuffle, PixelUnshuffle, Unfold)
import symgrad.nn.functional as functional
import symgrad.nn.init as init
import symgrad.nn.parallel as parallel
import symgrad.nn.utils as utils

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "Linear",
           "Identity", "Flatten", "Unflatten", "ReLU", "Sigmoid", "Tanh", "Softmax",
           "LogSoftmax", "Conv2d", "MaxPool2d", "AvgPool2d", "MSELoss", "L1Loss",
           "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "SmoothL1Loss",
           "HuberLoss", "KLDivLoss", "CosineEmbeddingLoss", "functional", "init", "parallel",
           "utils", "Embedding", "EmbeddingBag", "LayerNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d",
           "GELU", "LeakyReLU", "ELU", "SiLU", "Softplus", "Hardtanh", "ReLU6", "Mish",
           "Dropout", "Dropout1d", "Dropout2d",
           "Conv1d", "ConvTranspose2d", "AdaptiveAvgPool2d", "Upsample",
           "ParameterList", "ParameterDict",
           "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
           "MultiheadAttention",
           "CELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish", "LogSigmoid",
           "PReLU", "RReLU", "Softmax2d", "Softmin", "Softshrink", "Softsign", "Tanhshrink",
           "Threshold",
           "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d",
           "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm",
           "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer",
           "Bilinear", "CosineSimilarity", "PairwiseDistance",
           "GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelMarginLoss",
           "MultiLabelSoftMarginLoss", "MultiMarginLoss", "PoissonNLLLoss", "SoftMarginLoss",
           "TripletMarginLoss",
           "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "Fold",
           "MaxPool1d", "PixelShuffle", "PixelUnshuffle", "Unfold"]
