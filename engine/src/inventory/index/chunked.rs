//! A list that grows without copying, for the per-record index.

/// A list that grows in fixed-size chunks: growing never copies what is there, so it
/// costs its size plus one chunk, not twice its size while a `Vec` doubles (at 10M
/// records, the 160 MB of slots briefly held 400 MB). Used for the per-record index.
pub(super) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

/// Items per chunk.
const CHUNK: usize = 1 << 16;

impl<T> Chunked<T> {
    pub(super) fn push(&mut self, item: T) {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(item);
            self.len += 1;
        }
    }

    pub(super) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> + Clone {
        self.chunks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::{Chunked, CHUNK};

    #[test]
    fn chunked_keeps_order_and_indices_across_chunk_boundaries() {
        let mut list = Chunked::default();
        let n = 2 * CHUNK + 3;
        for i in 0..n {
            list.push(i);
        }
        assert_eq!(list.len(), n);
        assert_eq!(list.chunks.len(), 3, "chunks are filled before a new one starts");
        for i in [0, CHUNK - 1, CHUNK, 2 * CHUNK, n - 1] {
            assert_eq!(list.get(i), Some(&i));
        }
        assert_eq!(list.get(n), None);
        assert!(list.iter().copied().eq(0..n));
    }
}
