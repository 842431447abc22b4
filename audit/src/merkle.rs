//! An RFC 6962 Merkle tree over the records' hashes: roots, the frontier a writer keeps, and
//! consistency proofs.
//!
//! Why a tree next to the chain: a hash chain proves order, but whoever can write the log can
//! rewrite it whole with a fresh valid chain. A signed checkpoint of the tree's root, kept where the
//! agent cannot reach, pins the first N records; a consistency proof (O(log n) hashes) shows that a
//! later log still begins with exactly those N records, which is what witnesses and standard
//! verifiers (C2SP tlog-checkpoint) check. The leaves are the 32 raw bytes of each record's
//! `sha256:` hash, so the tree needs nothing the chain does not already have.
//!
//! A writer appends in O(log n) time and space with the frontier (the roots of the perfect subtrees
//! that make up the tree, largest first), which is small enough to keep in the state file.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The perfect-subtree roots of a tree of `size` leaves, largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// Rebuilds a frontier from stored parts; `None` when the node count does not match the size
    /// (one node per set bit).
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Frontier> {
        (nodes.len() == size.count_ones() as usize).then_some(Frontier { size, nodes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends a leaf given its leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        // Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        let mut merges = self.size.trailing_ones();
        while merges > 0 {
            match self.nodes.pop() {
                Some(left) => node = node_hash(&left, &node),
                None => break,
            }
            merges -= 1;
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The tree's root hash.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        match nodes.next() {
            None => empty_root(),
            Some(&last) => nodes.fold(last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// The root over `leaves` (leaf hashes).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split(leaves.len());
            let (l, r) = leaves.split_at(k);
            node_hash(&root(l), &root(r))
        }
    }
}

/// The largest power of two below `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The RFC 6962 consistency proof from the tree of the first `m` leaves to the tree of all of
/// them. Empty when `m` is 0 or every leaf.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let mut proof = Vec::new();
    if m > 0 && m < leaves.len() {
        subproof(m, leaves, true, &mut proof);
    }
    proof
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            proof.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    let (l, r) = leaves.split_at(k);
    if m <= k {
        subproof(m, l, whole, proof);
        proof.push(root(r));
    } else {
        subproof(m - k, r, false, proof);
        proof.push(root(l));
    }
}

/// Checks a consistency proof between (`m`, `old_root`) and (`n`, `new_root`) (RFC 9162
/// §2.1.4.2).
pub fn verify_consistency(
    m: u64,
    n: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && old_root == new_root;
    }
    if m == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((&first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn the_frontier_agrees_with_the_recursive_root() {
        let all = leaves(70);
        let mut f = Frontier::default();
        assert_eq!(f.root(), empty_root());
        for (i, leaf) in all.iter().enumerate() {
            f.push(*leaf);
            assert_eq!(
                f.root(),
                root(all.get(..=i).unwrap_or_default()),
                "size {}",
                i + 1
            );
            assert_eq!(f.nodes().len(), (i + 1).count_ones() as usize);
        }
    }

    #[test]
    fn consistency_proofs_verify_and_catch_a_changed_prefix() {
        let all = leaves(37);
        for n in 1..=all.len() {
            let new = all.get(..n).unwrap_or_default();
            for m in 1..=n {
                let old = all.get(..m).unwrap_or_default();
                let proof = consistency_proof(m, new);
                assert!(
                    verify_consistency(m as u64, n as u64, &root(old), &root(new), &proof),
                    "{m} -> {n}"
                );
                if m < n {
                    let mut forged = old.to_vec();
                    if let Some(first) = forged.first_mut() {
                        *first = leaf_hash(b"forged");
                    }
                    assert!(!verify_consistency(
                        m as u64,
                        n as u64,
                        &root(&forged),
                        &root(new),
                        &proof
                    ));
                }
            }
        }
    }

    /// RFC 6962's tree hash for a known input: the empty tree and one leaf of empty data.
    #[test]
    fn known_answers() {
        let hex = |h: Hash| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
