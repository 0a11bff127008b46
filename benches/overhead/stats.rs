//! Medians and paired ratios: the only statistics the tables use.

/// Median of `values` (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// Median over rounds of `a[r] / b[r]`, using only rounds where both ran. Pairing within a
/// round cancels the slow drift of a shared VM that separate medians would keep.
pub fn median_ratio(a: &[Option<f64>], b: &[Option<f64>]) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((*x)? / (*y)?))
        .collect();
    median(&ratios)
}

/// Median over rounds of `(a[r] - fixed[r]) / b[r]`: `a`'s ratio once a cost it pays once per
/// run (timed in the same round as `fixed`) is taken out.
pub fn median_ratio_less(
    a: &[Option<f64>],
    fixed: &[Option<f64>],
    b: &[Option<f64>],
) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(fixed)
        .zip(b)
        .filter_map(|((x, f), y)| Some(((*x)? - (*f)?) / (*y)?))
        .collect();
    median(&ratios)
}
