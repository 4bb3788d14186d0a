pub mod mutations;
pub mod object;
pub mod queries;
pub mod queue;

pub use object::Asset;
