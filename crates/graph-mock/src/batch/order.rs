//! The two orders of a batch: the order items are executed in (every `dependsOn` first, otherwise
//! as sent) and the order answers are written in, which is deliberately NOT the request order so
//! that a client matching answers by position instead of by `id` fails in tests, not in
//! production (Graph answers in completion order).

use super::envelope::Item;
use crate::rng::SplitMix;

/// Indices of `items` with every dependency before its dependents (stable otherwise); an error on
/// a cycle.
pub(crate) fn execution_order(items: &[Item]) -> Result<Vec<usize>, String> {
    let position = |id: &str| items.iter().position(|i| i.id.eq_ignore_ascii_case(id));
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    while order.len() < items.len() {
        let ready = (0..items.len()).find(|&i| {
            !done[i]
                && items[i]
                    .depends_on
                    .iter()
                    .all(|d| position(d).is_some_and(|p| done[p]))
        });
        let Some(i) = ready else {
            return Err("The batch contains a dependsOn cycle.".to_owned());
        };
        done[i] = true;
        order.push(i);
    }
    Ok(order)
}

/// A permutation of `0..n`, seeded, never the identity when `n >= 2`.
pub(crate) fn answer_order(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix::new(seed);
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    if n >= 2 && order.iter().enumerate().all(|(i, &o)| i == o) {
        order.rotate_left(1);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, deps: &[&str]) -> Item {
        Item {
            id: id.to_owned(),
            method: "POST".to_owned(),
            url: "/x".to_owned(),
            headers: Vec::new(),
            body: None,
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn dependencies_first_and_cycles_refused() {
        let items = [item("a", &["c"]), item("b", &[]), item("c", &["b"])];
        assert_eq!(execution_order(&items), Ok(vec![1, 2, 0]));
        let cycle = [item("a", &["b"]), item("b", &["a"])];
        assert!(execution_order(&cycle).is_err());
    }

    #[test]
    fn answers_are_permuted() {
        for seed in 0..50 {
            for n in 2..=20 {
                let o = answer_order(n, seed);
                let mut sorted = o.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>());
                assert_ne!(o, sorted, "n={n} seed={seed}");
            }
        }
        assert_eq!(answer_order(1, 3), [0]);
    }
}
