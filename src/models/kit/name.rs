//! The config `type` name of a model ([`Trainer::NAME`](crate::traits::Trainer::NAME)) in
//! the errors and fit-callback stages of its family: [`context!`](crate::models::kit::context)
//! makes `"{NAME} {what}"` at compile time, so that the prediction paths name the model
//! without allocating.

/// The bytes of `a` followed by `b`, `N = a.len() + b.len()` (for
/// [`context!`](crate::models::kit::context)).
pub(crate) const fn concat_bytes<const N: usize>(a: &str, b: &str) -> [u8; N] {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() {
            a[i]
        } else if i - a.len() < b.len() {
            b[i - a.len()]
        } else {
            b' '
        };
        i += 1;
    }
    out
}

/// `"{name} {what}"` as a `&'static str` computed at compile time, from a constant `name`
/// (usually a trainer's [`NAME`](crate::traits::Trainer::NAME)) and a literal `what`:
///
/// ```ignore
/// check_predict_shapes(context!(Ridge::NAME, "predict"), x, n_features, out.len(), 1)?;
/// // "ridge predict", with no allocation on the prediction path
/// ```
///
/// `name` must not depend on a generic parameter (a constant item cannot); generic code
/// formats `Self::NAME` at run time instead, outside the prediction paths.
macro_rules! context {
    // The constants' names are unlikely ones: item names are not hygienic, and `$name` may
    // itself be a constant called `NAME`.
    ($name:expr, $what:literal) => {{
        const CONTEXT_NAME_: &str = $name;
        const CONTEXT_WHAT_: &str = concat!(" ", $what);
        const CONTEXT_BYTES_: [u8; CONTEXT_NAME_.len() + CONTEXT_WHAT_.len()] =
            $crate::models::kit::name::concat_bytes(CONTEXT_NAME_, CONTEXT_WHAT_);
        const CONTEXT_TEXT_: &str = match ::std::str::from_utf8(&CONTEXT_BYTES_) {
            Ok(text) => text,
            Err(_) => CONTEXT_NAME_,
        };
        CONTEXT_TEXT_
    }};
}
pub(crate) use context;

#[cfg(test)]
mod tests {
    use crate::models::linear::Ridge;
    use crate::traits::Trainer;

    #[test]
    fn context_is_name_space_what() {
        const NAME: &str = "ridge";
        assert_eq!(context!(NAME, "predict"), "ridge predict");
        assert_eq!(context!(Ridge::NAME, "predict_row"), "ridge predict_row");
        assert_eq!(context!("", "x"), " x");
    }
}
