//! Serde helpers for the JSON conventions of the shared vectors and the command line: every
//! unsigned integer is written as a decimal string (JSON numbers lose precision past 2^53 in many
//! readers) and read from a decimal string or a JSON integer.

use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Writes `value` as a decimal string.
pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Reads a decimal string (or a non-negative JSON integer) into `T`.
pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    d.deserialize_any(DecVisitor(PhantomData))
}

struct DecVisitor<T>(PhantomData<T>);

impl<T> DecVisitor<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn parse<E: de::Error>(text: &str) -> Result<T, E> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom(format!(
                "expected a decimal integer string, got {text:?}"
            )));
        }
        text.parse::<T>()
            .map_err(|e| E::custom(format!("{text:?} is out of range: {e}")))
    }
}

impl<'de, T> Visitor<'de> for DecVisitor<T>
where
    T: FromStr,
    T::Err: Display,
{
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an unsigned integer as a decimal string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Self::parse(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::parse(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Err(E::custom(format!("expected an unsigned integer, got {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(E::custom(format!("expected an integer, got {v}")))
    }
}

/// The same convention for a list of integers.
pub mod vec {
    use super::*;
    use serde::de::SeqAccess;
    use serde::ser::SerializeSeq;

    /// Writes every element as a decimal string.
    pub fn serialize<T: Display, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        for v in values {
            seq.serialize_element(&v.to_string())?;
        }
        seq.end()
    }

    /// Reads a list of decimal strings or integers.
    pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        struct SeqVisitor<T>(PhantomData<T>);
        impl<'de, T> Visitor<'de> for SeqVisitor<T>
        where
            T: FromStr,
            T::Err: Display,
        {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of decimal integer strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(Elem(v)) = seq.next_element::<Elem<T>>()? {
                    out.push(v);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(SeqVisitor(PhantomData))
    }

    struct Elem<T>(T);
    impl<'de, T> serde::Deserialize<'de> for Elem<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::deserialize(d).map(Elem)
        }
    }
}
