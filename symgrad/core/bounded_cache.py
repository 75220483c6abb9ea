"""The one kind of in-memory cache symgrad keeps: a bounded least-recently-used table.

>>> cache = BoundedCache(2)
>>> cache.get_or_make("a", lambda: 1), cache.get_or_make("b", lambda: 2)
(1, 2)
>>> cache.get_or_make("c", lambda: 3); list(cache)
3
['b', 'c']
"""
import collections


class BoundedCache:
    """At most ``size`` entries; making one more evicts the least recently used, passing it
    to ``on_evict`` (key, value) when given."""

    def __init__(self, size, on_evict=None):
        self.size = size
        self.on_evict = on_evict
        self._entries = collections.OrderedDict()

    def get_or_make(self, key, make):
        """The value under ``key``, made by ``make()`` on a miss."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = self._entries[key] = make()
        while len(self._entries) > self.size:
            evicted = self._entries.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(*evicted)
        return value

    def __getitem__(self, key):
        return self._entries[key]

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def clear(self):
        self._entries.clear()
