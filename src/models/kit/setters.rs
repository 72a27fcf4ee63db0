//! [`setters!`](crate::models::kit::setters): the builder-style setters of every settings
//! struct in the crate (trainers, splitters, searches), written once.

/// Builder-style setters `pub fn field(mut self, value: Type) -> Self`, one per listed field.
///
/// ```ignore
/// setters!(Ridge {
///     alpha: f64,
///     /// Turns the intercept on or off.
///     fit_intercept: bool,
///     class_weight: ClassWeight => Some, // stores `Some(value)` in an `Option` field
/// });
/// setters!([K: ForestKind] ForestClassifier<K> { n_estimators: usize });
/// ```
///
/// - a field without doc comments gets the doc "Sets `field`."; doc comments written before
///   a field replace it;
/// - `=> Wrap` stores `Wrap(value)` (e.g. `=> Some` for an `Option` field set to a value);
/// - a leading `[generics]` makes the impl generic (`impl<generics> Type`).
///
/// Setters that convert their argument otherwise (`impl Into<String>`, two fields at once) are
/// written by hand.
macro_rules! setters {
    // The internal rules come first: `$t:ty` below must never try to parse them.
    (@store $wrap:ident $value:ident) => {
        $wrap($value)
    };
    (@store $value:ident) => {
        $value
    };
    (@setter [] $name:ident: $ty:ty $(=> $wrap:ident)?) => {
        $crate::models::kit::setters!(
            @setter [#[doc = concat!("Sets `", stringify!($name), "`.")]] $name: $ty $(=> $wrap)?
        );
    };
    (@setter [$(#[$doc:meta])+] $name:ident: $ty:ty $(=> $wrap:ident)?) => {
        $(#[$doc])+
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = $crate::models::kit::setters!(@store $($wrap)? value);
            self
        }
    };
    ([$($g:tt)*] $t:ty { $($(#[$doc:meta])* $name:ident: $ty:ty $(=> $wrap:ident)?),* $(,)? }) => {
        impl<$($g)*> $t {
            $(
                $crate::models::kit::setters!(
                    @setter [$(#[$doc])*] $name: $ty $(=> $wrap)?
                );
            )*
        }
    };
    ($t:ty { $($body:tt)* }) => {
        $crate::models::kit::setters!([] $t { $($body)* });
    };
}
pub(crate) use setters;
