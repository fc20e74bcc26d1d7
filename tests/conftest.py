"""Shared test fixtures."""

from collections.abc import Iterator

import pytest


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Run a test with one torch CPU thread, restoring the previous setting afterwards.

    Torch's default of one thread per core slows small fits several-fold when other processes
    share the 2-core CI machine; the library itself never changes thread settings.
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
