//! A bounded set of distinct ESIs kept sorted: the duplicate check of every
//! receiver, and (being sorted) the memo key of the structural decoder.

#[derive(Debug, Clone, Default)]
pub(crate) struct EsiSet {
    sorted: Vec<u32>,
}

/// What [`EsiSet::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insert {
    New,
    Duplicate,
    Full,
}

impl EsiSet {
    pub(crate) fn with_capacity(n: usize) -> EsiSet {
        EsiSet { sorted: Vec::with_capacity(n) }
    }

    /// Inserts `esi` unless it is there already or the set holds `bound`.
    pub(crate) fn insert(&mut self, esi: u32, bound: usize) -> Insert {
        // Symbols mostly arrive in increasing ESI order per sender: check
        // the end first.
        let at = match self.sorted.last() {
            Some(&last) if esi > last => self.sorted.len(),
            _ => match self.sorted.binary_search(&esi) {
                Ok(_) => return Insert::Duplicate,
                Err(at) => at,
            },
        };
        if self.sorted.len() >= bound {
            return Insert::Full;
        }
        self.sorted.insert(at, esi);
        Insert::New
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    pub(crate) fn as_slice(&self) -> &[u32] {
        &self.sorted
    }

    /// Frees the memory once the block is settled.
    pub(crate) fn release(&mut self) {
        self.sorted = Vec::new();
    }
}

/// True when the first `k` entries of sorted distinct `esis` are 0..k, i.e.
/// every source symbol is present.
pub(crate) fn all_source_present(esis: &[u32], k: usize) -> bool {
    esis.len() >= k && (k == 0 || esis[k - 1] as usize == k - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sorted_distinct_and_bounded() {
        let mut s = EsiSet::default();
        for esi in [5, 1, 9, 5, 3, 9] {
            s.insert(esi, 4);
        }
        assert_eq!(s.as_slice(), &[1, 3, 5, 9]);
        assert_eq!(s.insert(2, 4), Insert::Full);
        assert_eq!(s.insert(3, 4), Insert::Duplicate);
    }

    #[test]
    fn all_source_check() {
        assert!(all_source_present(&[0, 1, 2], 3));
        assert!(all_source_present(&[0, 1, 2, 7], 3));
        assert!(!all_source_present(&[0, 1, 3], 3));
        assert!(!all_source_present(&[0, 1], 3));
    }
}
