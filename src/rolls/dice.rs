//! The rules of a roll, apart from where its dice come from (so they can be tested on fixed
//! dice): a d10 pool against a difficulty, as DOMAIN_NOTES says.

use async_graphql::Enum;
use rand::Rng;

use crate::error::{AppError, AppResult};

/// Pools hold at most this many dice.
pub const MAX_POOL: i32 = 100;
pub const MAX_DIE_SIZE: i32 = 1000;
/// The die the classification rules are about.
pub const D10: i32 = 10;

/// How a roll came out.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RollResult {
    /// The total fell below zero: more ones than successes.
    Botch,
    /// A total of zero.
    Failure,
    /// A total from one up to the number of dice.
    Success,
    /// A total above the number of dice.
    Critical,
    /// Another die, or no difficulty: not classified, and not in the d10 statistics.
    Other,
}

impl RollResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Botch => "botch",
            Self::Failure => "failure",
            Self::Success => "success",
            Self::Critical => "critical",
            Self::Other => "other",
        }
    }

    pub fn from_db(text: &str) -> Self {
        match text {
            "botch" => Self::Botch,
            "failure" => Self::Failure,
            "success" => Self::Success,
            "critical" => Self::Critical,
            _ => Self::Other,
        }
    }
}

/// What one roll's dice add up to. The counts are of the faces rolled (before ones and tens
/// cancel); `total` is after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub successes: i32,
    pub failures: i32,
    pub botches: i32,
    pub criticals: i32,
    pub total: i32,
    pub result: RollResult,
}

/// What is to be rolled.
#[derive(Clone, Copy, Debug)]
pub struct Pool {
    pub dice: i32,
    pub die_size: i32,
    pub difficulty: Option<i32>,
}

impl Pool {
    /// Checks the pool (1 to 100 dice, a die of 2 to 1000 sides, a difficulty of 2 up to the
    /// die's size).
    pub fn new(dice: i32, die_size: i32, difficulty: Option<i32>) -> AppResult<Self> {
        if !(1..=MAX_POOL).contains(&dice) {
            return Err(AppError::bad_field(
                "pool",
                format!("a pool holds 1 to {MAX_POOL} dice"),
            ));
        }
        if !(2..=MAX_DIE_SIZE).contains(&die_size) {
            return Err(AppError::bad_field(
                "dieSize",
                format!("a die has 2 to {MAX_DIE_SIZE} sides"),
            ));
        }
        if let Some(difficulty) = difficulty
            && !(2..=die_size).contains(&difficulty)
        {
            return Err(AppError::bad_field(
                "difficulty",
                format!("the difficulty must be between 2 and {die_size}"),
            ));
        }
        Ok(Self {
            dice,
            die_size,
            difficulty,
        })
    }

    /// Rolls the pool with the thread's cryptographically seeded generator.
    pub fn roll(&self) -> Vec<i32> {
        let mut rng = rand::rng();
        (0..self.dice)
            .map(|_| rng.random_range(1..=self.die_size))
            .collect()
    }

    /// Checks dice rolled elsewhere (at the table): one per die of the pool, each a face of it.
    pub fn check_rolled(&self, dice: &[i32]) -> AppResult<()> {
        if dice.len() != usize::try_from(self.dice).unwrap_or(0) {
            return Err(AppError::bad_field(
                "dice",
                format!("give one face per die: {} of them", self.dice),
            ));
        }
        if let Some(face) = dice.iter().find(|&&d| !(1..=self.die_size).contains(&d)) {
            return Err(AppError::bad_field(
                "dice",
                format!("{face} is not a face of a d{}", self.die_size),
            ));
        }
        Ok(())
    }

    /// Classifies rolled dice: for a d10 with a difficulty, 1 is a botch, 2 to difficulty − 1 a
    /// failure, difficulty to 9 a success and 10 a critical; ones and tens cancel pairwise, then
    /// total = successes + 2 × criticals − botches. Anything else is OTHER, totalling its faces.
    pub fn classify(&self, dice: &[i32]) -> Tally {
        let Some(difficulty) = self.difficulty.filter(|_| self.die_size == D10) else {
            return Tally {
                successes: 0,
                failures: 0,
                botches: 0,
                criticals: 0,
                total: dice.iter().sum(),
                result: RollResult::Other,
            };
        };
        let count = |keep: &dyn Fn(i32) -> bool| {
            i32::try_from(dice.iter().filter(|&&d| keep(d)).count()).unwrap_or(i32::MAX)
        };
        let botches = count(&|d| d == 1);
        let criticals = count(&|d| d == D10);
        let successes = count(&|d| d >= difficulty && d < D10);
        let failures = count(&|d| d > 1 && d < difficulty);
        let cancelled = botches.min(criticals);
        let total = successes + 2 * (criticals - cancelled) - (botches - cancelled);
        let number_of_dice = i32::try_from(dice.len()).unwrap_or(i32::MAX);
        let result = if total < 0 {
            RollResult::Botch
        } else if total == 0 {
            RollResult::Failure
        } else if total > number_of_dice {
            RollResult::Critical
        } else {
            RollResult::Success
        };
        Tally {
            successes,
            failures,
            botches,
            criticals,
            total,
            result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d10(difficulty: i32, dice: &[i32]) -> Tally {
        Pool::new(i32::try_from(dice.len()).unwrap(), 10, Some(difficulty))
            .unwrap()
            .classify(dice)
    }

    #[test]
    fn faces_are_sorted_by_the_difficulty() {
        let tally = d10(6, &[1, 2, 5, 6, 9, 10]);
        assert_eq!(
            (
                tally.botches,
                tally.failures,
                tally.successes,
                tally.criticals
            ),
            (1, 2, 2, 1)
        );
        // One and ten cancel: 2 successes remain.
        assert_eq!(tally.total, 2);
        assert_eq!(tally.result, RollResult::Success);
    }

    #[test]
    fn ones_and_tens_cancel_pairwise_first() {
        // Two ones, one ten: one botch remains; 7 is a success → 1 − 1 = 0.
        let tally = d10(7, &[1, 1, 10, 7]);
        assert_eq!(tally.total, 0);
        assert_eq!(tally.result, RollResult::Failure);
        // Three tens, one one: two criticals remain → 4, not above 4 dice.
        let tally = d10(7, &[10, 10, 10, 1]);
        assert_eq!(tally.total, 4);
        assert_eq!(tally.result, RollResult::Success);
        // Three tens and a success: 7 > 4 dice.
        let tally = d10(7, &[10, 10, 10, 7]);
        assert_eq!(tally.total, 7);
        assert_eq!(tally.result, RollResult::Critical);
    }

    #[test]
    fn totals_decide_the_result() {
        assert_eq!(d10(6, &[1, 3]).result, RollResult::Botch); // −1
        assert_eq!(d10(6, &[3, 4]).result, RollResult::Failure); // 0
        assert_eq!(d10(6, &[6, 6]).result, RollResult::Success); // 2 = dice
        assert_eq!(d10(6, &[10, 2]).result, RollResult::Success); // 2 = dice, not above
        assert_eq!(d10(6, &[10, 6]).result, RollResult::Critical); // 3 > 2
        assert_eq!(d10(6, &[10]).total, 2);
        assert_eq!(d10(6, &[10]).result, RollResult::Critical);
    }

    #[test]
    fn the_difficulty_moves_the_line() {
        assert_eq!(d10(2, &[2]).result, RollResult::Success);
        assert_eq!(d10(9, &[8]).result, RollResult::Failure);
        // Difficulty 10: nothing but a ten succeeds.
        let tally = d10(10, &[9, 9, 10]);
        assert_eq!((tally.failures, tally.criticals, tally.total), (2, 1, 2));
    }

    #[test]
    fn other_dice_and_missing_difficulties_are_other() {
        let d6 = Pool::new(3, 6, Some(4)).unwrap().classify(&[1, 6, 4]);
        assert_eq!(
            (d6.result, d6.total, d6.botches),
            (RollResult::Other, 11, 0)
        );
        let plain = Pool::new(2, 10, None).unwrap().classify(&[1, 10]);
        assert_eq!((plain.result, plain.total), (RollResult::Other, 11));
    }

    #[test]
    fn pools_are_bounded() {
        assert!(Pool::new(100, 10, Some(6)).is_ok());
        assert!(Pool::new(101, 10, Some(6)).is_err());
        assert!(Pool::new(0, 10, Some(6)).is_err());
        assert!(Pool::new(5, 1, None).is_err());
        assert!(Pool::new(5, 10, Some(11)).is_err());
        assert!(Pool::new(5, 10, Some(1)).is_err());
    }

    #[test]
    fn rolled_dice_are_faces_of_the_die() {
        let pool = Pool::new(3, 10, Some(6)).unwrap();
        let dice = pool.roll();
        assert_eq!(dice.len(), 3);
        assert!(pool.check_rolled(&dice).is_ok());
        assert!(pool.check_rolled(&[1, 2]).is_err());
        assert!(pool.check_rolled(&[1, 2, 11]).is_err());
        assert!(pool.check_rolled(&[0, 2, 3]).is_err());
    }
}
