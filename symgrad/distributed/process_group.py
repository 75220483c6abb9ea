"""The process group of ``torch.distributed``, on MPI: every process started by ``mpiexec``
is one rank of MPI's world communicator (mpi4py). ``init_process_group()`` also makes an
uncaught exception on any rank abort the whole job (MPI ``Abort``) after printing it, so a
failing rank never leaves the others waiting in a collective."""
import sys

_GROUP = {"comm": None, "excepthook": None}

MPI_EXTRA = "pip install 'symgrad[mpi]' (mpi4py, mpich and numba-mpi)"


def mpi():
    """mpi4py's ``MPI`` module (imported on first use: symgrad runs without it)."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(f"symgrad.distributed runs on MPI through mpi4py, which is not "
                          f"installed: {MPI_EXTRA}") from None
    return MPI


def is_available():
    """Whether mpi4py can be imported (``torch.distributed.is_available``)."""
    try:
        mpi()
    except ImportError:
        return False
    return True


def init_process_group(backend="mpi", init_method=None, world_size=-1, rank=-1, **_options):
    """Join the job ``mpiexec`` started: rank and world size come from MPI's world
    communicator (a process started without ``mpiexec`` is rank 0 of 1).

    >>> import symgrad.distributed as dist
    >>> dist.init_process_group()            # doctest: +SKIP
    >>> dist.get_rank(), dist.get_world_size()   # doctest: +SKIP
    (0, 1)
    """
    if backend not in (None, "mpi"):
        raise ValueError(f"init_process_group: symgrad's backend is MPI (backend='mpi'), got "
                         f"backend={backend!r}; start the processes with mpiexec")
    if _GROUP["comm"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    comm = mpi().COMM_WORLD
    for name, given, actual in (("world_size", world_size, comm.Get_size()),
                                ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group: {name}={given}, but mpiexec started this "
                             f"process as {name} {actual}")
    _GROUP["comm"] = comm
    _GROUP["excepthook"] = sys.excepthook
    sys.excepthook = _abort_job


def _abort_job(kind, error, traceback):
    """An uncaught exception: print it (with the rank), then end every rank of the job."""
    comm = _GROUP["comm"]
    if comm is not None and comm.Get_size() > 1:
        sys.stderr.write(f"symgrad.distributed: rank {comm.Get_rank()} of {comm.Get_size()} "
                         f"raised {kind.__name__}; aborting every rank\n")
    (_GROUP["excepthook"] or sys.__excepthook__)(kind, error, traceback)
    sys.stdout.flush()
    sys.stderr.flush()
    if comm is not None and comm.Get_size() > 1:
        comm.Abort(1)


def destroy_process_group(group=None):
    """Leave the process group (MPI itself stays up until the process ends)."""
    communicator()
    sys.excepthook = _GROUP["excepthook"] or sys.__excepthook__
    _GROUP["comm"] = _GROUP["excepthook"] = None


def is_initialized():
    return _GROUP["comm"] is not None


def communicator():
    """The world communicator, or a clear error before ``init_process_group``."""
    if _GROUP["comm"] is None:
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call init_process_group.")
    return _GROUP["comm"]


def get_rank(group=None):
    return communicator().Get_rank()


def get_world_size(group=None):
    return communicator().Get_size()
