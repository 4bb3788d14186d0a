//! The built-in character name generator: a name is a pure function of its seed (same seed,
//! same name), built from syllables by a SplitMix64 stream.

const ONSETS: &[&str] = &[
    "b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "r", "s", "sh", "t",
    "th", "v", "w", "z",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ae", "ai", "ei", "ia", "ou"];
const CODAS: &[&str] = &["", "", "", "n", "r", "l", "s", "th", "m", "nd", "rn", "x"];

/// SplitMix64: tiny, well-distributed, and stable across versions (unlike a library RNG whose
/// stream may change), which is what a reproducible name needs.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        let len = u64::try_from(choices.len()).unwrap_or(1);
        let index = usize::try_from(self.next() % len).unwrap_or(0);
        choices[index]
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

fn word(rng: &mut SplitMix64) -> String {
    let syllables = rng.between(2, 3);
    let mut word = String::new();
    for i in 0..syllables {
        word.push_str(rng.pick(ONSETS));
        word.push_str(rng.pick(VOWELS));
        if i + 1 == syllables {
            word.push_str(rng.pick(CODAS));
        }
    }
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => word,
    }
}

/// A given name and a family name for `seed`.
pub fn generate(seed: u64) -> String {
    let mut rng = SplitMix64(seed);
    let given = word(&mut rng);
    let family = word(&mut rng);
    format!("{given} {family}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_name() {
        assert_eq!(generate(42), generate(42));
        assert_eq!(generate(0), generate(0));
    }

    #[test]
    fn names_differ_between_seeds() {
        let names: std::collections::HashSet<String> = (0..1000).map(generate).collect();
        assert!(names.len() > 990, "only {} distinct names", names.len());
    }

    #[test]
    fn names_are_two_capitalised_words() {
        for seed in [1, 7, 123_456_789, u64::MAX] {
            let name = generate(seed);
            let words: Vec<&str> = name.split(' ').collect();
            assert_eq!(words.len(), 2, "{name}");
            for word in words {
                assert!(word.chars().next().unwrap().is_uppercase(), "{name}");
                assert!(
                    word.chars().count() >= 4 && word.chars().count() <= 20,
                    "{name}"
                );
            }
        }
    }
}
