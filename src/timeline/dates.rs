//! Dates as worlds write them: `1204`, `-300`, `300 BC`, `1204-05-17` (or an ISO date and time),
//! `June 15, 1998`, `15 June 1998`, `June 1998`, `circa 1200`, `the 1190s`, `the 300s BC`, `312
//! TA` or `year 312 of the Third Age` (an era the tenant named). Each is placed on
//! one scale — a sort key of year, month and day — with how precise it is; the original text is
//! always kept, and what cannot be placed is said so.

use serde::{Deserialize, Serialize};

/// Years beyond this (either way) are not placed: the key must stay exact in a bigint.
const MAX_YEAR: i64 = 1_000_000_000;
/// Longest date text read.
const MAX_TEXT: usize = 200;

/// How precise a placed date is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Day,
    Month,
    Year,
    Decade,
    Century,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
            Self::Year => "year",
            Self::Decade => "decade",
            Self::Century => "century",
        }
    }

    pub fn from_slug(text: &str) -> Option<Self> {
        Some(match text {
            "day" => Self::Day,
            "month" => Self::Month,
            "year" => Self::Year,
            "decade" => Self::Decade,
            "century" => Self::Century,
            _ => return None,
        })
    }

    /// How many sort-key units the date may stand for (a year is 10,000: its months and days).
    pub fn span(self) -> i64 {
        match self {
            Self::Day => 1,
            Self::Month => 100,
            Self::Year => 10_000,
            Self::Decade => 100_000,
            Self::Century => 1_000_000,
        }
    }
}

/// A date placed on the timeline's scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// `year * 10_000 + month * 100 + day` (month and day 0 when unknown): sorts in time order.
    pub key: i64,
    pub precision: Precision,
    /// `circa`, `about`, `~`: the writer was not sure.
    pub approximate: bool,
}

impl Placed {
    /// The last key the date may stand for.
    pub fn end_key(&self) -> i64 {
        self.key + self.precision.span() - 1
    }
}

/// A named era of the world's calendar: `Third Age` (or its abbreviation `TA`) begins at
/// `offset` on the timeline's scale of years, so `312 TA` is year `offset + 312`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Era {
    pub name: String,
    #[serde(default)]
    pub abbreviation: Option<String>,
    pub offset: i64,
}

/// Places a date text, or None when it cannot be.
pub fn place(text: &str, eras: &[Era]) -> Option<Placed> {
    if text.len() > MAX_TEXT {
        return None;
    }
    let lower = text.trim().to_lowercase();
    let (approximate, rest) = strip_approximate(&lower);
    let rest = rest.trim().trim_start_matches("the ").trim();
    let rest = rest.strip_prefix("year ").unwrap_or(rest).trim();
    if let Some(placed) = with_era(rest, eras) {
        return Some(Placed {
            approximate,
            ..placed
        });
    }
    let (sign, rest) = strip_epoch(rest);
    if sign != 0 && rest.starts_with('-') {
        // `-300 BC`: one sign is enough.
        return None;
    }
    let placed = iso(rest)
        .or_else(|| named_month(rest))
        .or_else(|| decade_or_century(rest))
        .or_else(|| year(rest).map(|y| (y, 0, 0, Precision::Year)))?;
    let (year, month, day, precision) = placed;
    let year = match (sign < 0, precision) {
        // The 300s BC run from 399 BC to 300 BC.
        (true, Precision::Decade) => -year - 9,
        (true, Precision::Century) => -year - 99,
        (true, _) => -year,
        (false, _) => year,
    };
    key(year, month, day).map(|key| Placed {
        key,
        precision,
        approximate,
    })
}

fn key(year: i64, month: i64, day: i64) -> Option<i64> {
    (year.abs() <= MAX_YEAR).then(|| year * 10_000 + month * 100 + day)
}

fn strip_approximate(text: &str) -> (bool, &str) {
    for prefix in [
        "circa ",
        "c. ",
        "ca. ",
        "about ",
        "around ",
        "approximately ",
        "~",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (true, rest);
        }
    }
    (false, text)
}

/// Words that mark the common era, which an era of the tenant's may not take.
pub const EPOCH_WORDS: [&str; 8] = ["bc", "bce", "b.c.", "b.c.e.", "ad", "ce", "a.d.", "c.e."];

/// `300 BC`, `300 BCE`, `AD 300`, `300 CE`: the sign of the year (0 when none is written).
fn strip_epoch(text: &str) -> (i64, &str) {
    for suffix in [" bce", " bc", " b.c.", " b.c.e."] {
        if let Some(rest) = text.strip_suffix(suffix) {
            return (-1, rest.trim());
        }
    }
    for suffix in [" ce", " ad", " a.d.", " c.e."] {
        if let Some(rest) = text.strip_suffix(suffix) {
            return (1, rest.trim());
        }
    }
    if let Some(rest) = text.strip_prefix("ad ") {
        return (1, rest.trim());
    }
    (0, text)
}

/// `312 TA`, `TA 312`, `312 of the Third Age`, `Third Age 312`.
fn with_era(text: &str, eras: &[Era]) -> Option<Placed> {
    for era in eras {
        let mut names = vec![era.name.to_lowercase()];
        if let Some(abbreviation) = &era.abbreviation {
            names.push(abbreviation.to_lowercase());
        }
        for name in names.iter().filter(|name| !name.is_empty()) {
            // A whole word: an era `S` does not take `1190s`.
            let number = text
                .strip_suffix(name.as_str())
                .filter(|rest| rest.ends_with(' '))
                .map(|rest| {
                    rest.trim()
                        .trim_end_matches("of the")
                        .trim_end_matches("of")
                        .trim()
                })
                .or_else(|| {
                    text.strip_prefix(name.as_str())
                        .filter(|rest| rest.starts_with(' '))
                        .map(str::trim)
                });
            if let Some(year_in_era) = number.and_then(year) {
                return key(era.offset.checked_add(year_in_era)?, 0, 0).map(|key| Placed {
                    key,
                    precision: Precision::Year,
                    approximate: false,
                });
            }
        }
    }
    None
}

/// `1204-05-17` (a time after it, `T10:00:00Z`, is let go), `1204-05`.
fn iso(text: &str) -> Option<(i64, i64, i64, Precision)> {
    let text = text.split(['t', ' ']).next().unwrap_or(text);
    let (negative, body) = match text.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let parts: Vec<&str> = body.split('-').collect();
    if parts.len() < 2 || parts.len() > 3 || !parts.iter().all(|p| is_digits(p)) {
        return None;
    }
    let year: i64 = parts[0].parse().ok()?;
    let month: i64 = parts[1].parse().ok()?;
    if !(1..=12).contains(&month) || parts[1].len() > 2 {
        return None;
    }
    let year = if negative { -year } else { year };
    match parts.get(2) {
        Some(day) => {
            let day: i64 = day.parse().ok()?;
            (1..=days_in(year, month))
                .contains(&day)
                .then_some((year, month, day, Precision::Day))
        }
        None => Some((year, month, 0, Precision::Month)),
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The days of a month (the Gregorian calendar carried back).
fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `June 15, 1998`, `15 June 1998`, `June 1998` (months in full or by their first three
/// letters).
fn named_month(text: &str) -> Option<(i64, i64, i64, Precision)> {
    let words: Vec<&str> = text
        .split([' ', ','])
        .filter(|word| !word.is_empty())
        .collect();
    let month_of = |word: &str| {
        let word = word.trim_end_matches('.');
        MONTHS
            .iter()
            .position(|m| word.len() >= 3 && m.starts_with(word))
            .map(|at| at as i64 + 1)
    };
    let day_of = |word: &str| {
        let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        digits
            .parse::<i64>()
            .ok()
            .filter(|day| (1..=31).contains(day) && digits.len() <= 2)
    };
    let (year, month, day) = match words.as_slice() {
        [month, year_text] => (year(year_text)?, month_of(month)?, 0),
        [month, day, year_text] if month_of(month).is_some() => {
            (year(year_text)?, month_of(month)?, day_of(day)?)
        }
        [day, month, year_text] => (year(year_text)?, month_of(month)?, day_of(day)?),
        _ => return None,
    };
    if day == 0 {
        return Some((year, month, 0, Precision::Month));
    }
    (day <= days_in(year, month)).then_some((year, month, day, Precision::Day))
}

/// `1190s` (a decade), `1200s` (a century: a year ending in 00).
fn decade_or_century(text: &str) -> Option<(i64, i64, i64, Precision)> {
    let digits = text.strip_suffix("'s").or_else(|| text.strip_suffix('s'))?;
    let year = year(digits)?;
    if year % 100 == 0 {
        Some((year, 0, 0, Precision::Century))
    } else if year % 10 == 0 {
        Some((year, 0, 0, Precision::Decade))
    } else {
        None
    }
}

/// A whole year: `1204`, `-300`, `1,204`.
fn year(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits: String = digits.chars().filter(|c| *c != ',').collect();
    if !is_digits(&digits) || digits.len() > 10 {
        return None;
    }
    let year: i64 = digits.parse().ok()?;
    Some(if negative { -year } else { year })
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<(i64, Precision, bool)> {
        let eras = [Era {
            name: "Third Age".into(),
            abbreviation: Some("TA".into()),
            offset: 3000,
        }];
        place(text, &eras).map(|p| (p.key, p.precision, p.approximate))
    }

    #[test]
    fn the_ways_worlds_write_dates_are_placed_in_order() {
        assert_eq!(at("1204"), Some((12_040_000, Precision::Year, false)));
        assert_eq!(at("1204-05-17"), Some((12_040_517, Precision::Day, false)));
        assert_eq!(at("1204-05"), Some((12_040_500, Precision::Month, false)));
        assert_eq!(at("300 BC"), Some((-3_000_000, Precision::Year, false)));
        assert_eq!(at("-300"), Some((-3_000_000, Precision::Year, false)));
        assert_eq!(at("AD 300"), Some((3_000_000, Precision::Year, false)));
        assert_eq!(at("circa 1200"), Some((12_000_000, Precision::Year, true)));
        assert_eq!(at("~1200"), Some((12_000_000, Precision::Year, true)));
        assert_eq!(
            at("the 1190s"),
            Some((11_900_000, Precision::Decade, false))
        );
        assert_eq!(at("1200s"), Some((12_000_000, Precision::Century, false)));
        assert_eq!(at("312 TA"), Some((33_120_000, Precision::Year, false)));
        assert_eq!(
            at("Year 312 of the Third Age"),
            Some((33_120_000, Precision::Year, false))
        );
        assert_eq!(
            at("Third Age 12"),
            Some((30_120_000, Precision::Year, false))
        );
        assert_eq!(
            at("1998-06-15T10:30:00Z"),
            Some((19_980_615, Precision::Day, false))
        );
        assert_eq!(
            at("June 15, 1998"),
            Some((19_980_615, Precision::Day, false))
        );
        assert_eq!(at("15 Jun 1998"), Some((19_980_615, Precision::Day, false)));
        assert_eq!(at("June 1998"), Some((19_980_600, Precision::Month, false)));
        assert_eq!(at("1200-02-29"), Some((12_000_229, Precision::Day, false)));
        // The 300s BC run from 399 BC to 300 BC; an era does not take part of a word.
        let bc = place("the 300s BC", &[]).expect("placed");
        assert_eq!((bc.key, bc.end_key()), (-3_990_000, -2_990_001));
        let s = [Era {
            name: "Sun".into(),
            abbreviation: Some("S".into()),
            offset: 5,
        }];
        assert_eq!(
            place("1190s", &s).map(|p| p.precision),
            Some(Precision::Decade)
        );
        let key = |text: &str| at(text).map(|(key, _, _)| key);
        assert!(key("1204-05-17") < key("1205"));
        assert!(key("300 BC") < key("1"));
    }

    #[test]
    fn what_cannot_be_placed_is_not() {
        for text in [
            "",
            "long ago",
            "the Age of Dreams",
            "1204-13-01",
            "1204-05-40",
            "1204-02-31",
            "1100-02-29",
            "-300 BC",
            "June 40, 1998",
            "99999999999",
            "1195s",
            &"1".repeat(300),
        ] {
            assert_eq!(at(text), None, "{text}");
        }
    }
}
