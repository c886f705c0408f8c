"""What `sandlink.load()` returns pickles (as how it was loaded), and so do its maskers and
buffers: `spawn` process pools, Dask and Ray can take them along."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

import sandlink
from sandlink import Limits

BACKENDS = ("wasm", "oracle", "native", "python")
KEY = b"\x37\xfa\x21\x3d"


@pytest.fixture(scope="module", params=BACKENDS)
def k(request):
    return sandlink.load(request.param)


def test_kernels_unpickle_to_the_same_kernels_loaded_once(k):
    again = pickle.loads(pickle.dumps(k))
    assert (again.backend, again.add(2, 3)) == (k.backend, 5)
    assert again.ws_mask(b"Hello", KEY) == k.ws_mask(b"Hello", KEY)
    assert pickle.loads(pickle.dumps(k)) is again  # once per process


def test_how_it_was_loaded_comes_along():
    limits = Limits(timeout=2.0, memory=64 << 20)
    k = sandlink.load(limits=limits, cache_dir=False, compiled=False)
    again = pickle.loads(pickle.dumps(k))
    assert again.exports.__sandlink__.limits == limits
    assert again.exports.__sandlink__.compiled is False


def test_maskers_keep_their_place(k):
    m = k.masker(KEY)
    first = m.mask(b"abc")
    copy = pickle.loads(pickle.dumps(m))
    assert (copy.key, copy.offset) == (m.key, 3)
    assert first + copy.mask(b"defgh") == k.ws_mask(b"abcdefgh", KEY)


def test_buffers_pickle_as_their_bytes(k):
    with k.buffer(6) as buf:
        buf.write(b"sandlk")
        copy = pickle.loads(pickle.dumps(buf))
    with copy:
        assert (type(copy), copy.read()) == (type(buf), b"sandlk")
    with pytest.raises(sandlink.StaleResourceError):
        pickle.dumps(buf)  # closed: nothing to take along


def test_load_component_objects_still_refuse(k):
    if k.backend in ("native", "python"):
        pytest.skip("no component")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(k.exports)


def mask_in_a_worker(kernels, data: bytes) -> tuple[str, bytes]:
    """Runs in a spawned process: the kernels arrived by pickle."""
    return kernels.backend, kernels.ws_mask(data, KEY)


def test_a_spawn_pool_takes_the_kernels_along():
    k = sandlink.load()
    data = bytes(range(200))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        backend, masked = pool.submit(mask_in_a_worker, k, data).result(timeout=120)
    assert (backend, masked) == ("wasm", k.ws_mask(data, KEY))
