//! The program section's encoding: fixed-width little-endian fields in declaration order.
//!
//! Why not postcard, which the metadata section uses: the program is decoded by every process
//! that decides, and the preload decodes it in every fresh process, on its first exec. Through
//! serde, postcard spent ~100,000 instructions per open decoding the standard profile's program
//! (34 policies, 44 rules; callgrind, `gate open`). Read here field by field with no dispatch,
//! the same program costs ~77,000. Since the program's strings became one block
//! ([`super::Text`]), decoding checks and copies one string, not 78: opening a bundle and
//! building its evaluator went from ~121,000 instructions to ~86,000.
//!
//! The format, for each type implementing [`Flat`]: integers and bools at their width (bools and
//! tags as one byte), `Option` as a tag byte then the value, vectors and strings as a `u32`
//! count then the items. Decoding checks every count against the bytes left before it
//! allocates, so a corrupt count cannot ask for gigabytes; any malformed input is `None`, never
//! a panic.

use alloc::string::String;
use alloc::vec::Vec;

use super::{
    Action, AtomRange, CommandCond, CountCond, DepthCond, FieldTable, JoinedPath, PathCond,
    PolicyProgram, Program, ResponseCond, RuleProgram, SessionCond, Span, Text,
};

/// Encodes `program` for the program section.
pub fn encode(program: &Program) -> Vec<u8> {
    let mut out = Vec::new();
    program.put(&mut out);
    out
}

/// Decodes a program section; `None` when the bytes are not exactly one encoded program.
pub fn decode(bytes: &[u8]) -> Option<Program> {
    let mut r = Reader { bytes };
    let program = Program::take(&mut r)?;
    r.bytes.is_empty().then_some(program)
}

/// The unread rest of a section.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    fn slice(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.bytes.split_at_checked(len)?;
        self.bytes = rest;
        Some(head)
    }

    /// A count of items each at least `min_size` bytes long, checked against what is left.
    fn count(&mut self, min_size: usize) -> Option<usize> {
        let n = u32::take(self)? as usize;
        (n.checked_mul(min_size.max(1))? <= self.bytes.len()).then_some(n)
    }
}

/// A type with a fixed field order in the program section.
trait Flat: Sized {
    /// Fewest bytes an encoded value takes (bounds the count of a vector before allocating).
    const MIN_SIZE: usize;
    fn put(&self, out: &mut Vec<u8>);
    fn take(r: &mut Reader<'_>) -> Option<Self>;
}

macro_rules! flat_int {
    ($($t:ty),*) => {$(
        impl Flat for $t {
            const MIN_SIZE: usize = core::mem::size_of::<$t>();
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                r.array().map(<$t>::from_le_bytes)
            }
        }
    )*};
}

flat_int!(u8, u32, u64, i64);

impl Flat for bool {
    const MIN_SIZE: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        u8::from(*self).put(out);
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        match u8::take(r)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl<T: Flat> Flat for Option<T> {
    const MIN_SIZE: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        self.is_some().put(out);
        if let Some(v) = self {
            v.put(out);
        }
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        match bool::take(r)? {
            true => T::take(r).map(Some),
            false => Some(None),
        }
    }
}

impl<T: Flat> Flat for Vec<T> {
    const MIN_SIZE: usize = 4;
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        for item in self {
            item.put(out);
        }
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        let n = r.count(T::MIN_SIZE)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(T::take(r)?);
        }
        Some(items)
    }
}

impl Flat for String {
    const MIN_SIZE: usize = 4;
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        let n = r.count(1)?;
        let bytes = r.slice(n)?;
        core::str::from_utf8(bytes).ok().map(String::from)
    }
}

impl<A: Flat, B: Flat> Flat for (A, B) {
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE;
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        Some((A::take(r)?, B::take(r)?))
    }
}

impl Flat for Action {
    const MIN_SIZE: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        self.rank().put(out);
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        let rank = u8::take(r)?;
        [
            Action::Allow,
            Action::Watch,
            Action::Ask,
            Action::Webhook,
            Action::Deny,
        ]
        .into_iter()
        .find(|a| a.rank() == rank)
    }
}

/// Implements [`Flat`] for a struct as its fields in the order given (the order is the format:
/// both directions read the same list).
macro_rules! flat_struct {
    ($t:ident { $($field:ident: $ft:ty),* $(,)? }) => {
        impl Flat for $t {
            const MIN_SIZE: usize = 0 $(+ <$ft as Flat>::MIN_SIZE)*;
            fn put(&self, out: &mut Vec<u8>) {
                $(self.$field.put(out);)*
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                Some($t { $($field: <$ft as Flat>::take(r)?,)* })
            }
        }
    };
}

flat_struct!(AtomRange {
    start: u32,
    end: u32
});
flat_struct!(Span {
    start: u32,
    len: u32
});
flat_struct!(Text {
    start: u32,
    len: u32
});
flat_struct!(FieldTable {
    atoms: u32,
    always: Span,
    dfas: Span,
    prefilters: u32,
    confirms: Span,
    confirm_index: Span,
});
flat_struct!(CommandCond {
    matches: AtomRange,
    free: AtomRange,
    contains: Option<u32>,
    not_matches: AtomRange,
    composite: Vec<u32>,
});
flat_struct!(PathCond {
    matches: AtomRange,
    not_matches: AtomRange
});
flat_struct!(SessionCond {
    matches: AtomRange,
    not_matches: AtomRange
});
flat_struct!(ResponseCond {
    matches: AtomRange,
    not_matches: AtomRange
});
flat_struct!(DepthCond { gte: Option<i64>, lte: Option<i64>, eq: Option<i64> });
flat_struct!(CountCond { tool: Option<String>, gte: u32, window_secs: u64 });
flat_struct!(RuleProgram {
    action: Action,
    message: Text,
    expires_at: Option<i64>,
    once: bool,
    grant: bool,
    always: bool,
    command: Option<CommandCond>,
    env: AtomRange,
    path: Option<PathCond>,
    url: AtomRange,
    domain: AtomRange,
    session: Option<SessionCond>,
    agent_depth: Option<DepthCond>,
    tool_params: Vec<(u32, u32)>,
    call_count: Option<CountCond>,
    response: Option<ResponseCond>,
});
flat_struct!(PolicyProgram {
    name: Text,
    agent: u32,
    session: u32,
    tools: AtomRange,
    durable: bool,
    project: bool,
    rules: Vec<RuleProgram>,
});
flat_struct!(JoinedPath {
    up: u32,
    atom: u32,
    joined: Option<u32>,
    tail: u32,
    limit: u32,
});
flat_struct!(Program {
    default_action: Option<Action>,
    fields: Vec<FieldTable>,
    policies: Vec<PolicyProgram>,
    tool_params: Vec<String>,
    joined_paths: Vec<JoinedPath>,
    text: String,
});

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> Program {
        let mut program = Program::default();
        let message = program.add_text("needs a human: ü");
        let name = program.add_text("p");
        let rule = RuleProgram {
            action: Action::Ask,
            message,
            expires_at: Some(-5),
            once: true,
            grant: true,
            always: false,
            command: Some(CommandCond {
                matches: AtomRange::new(1, 3),
                free: AtomRange::new(2, 3),
                contains: Some(7),
                not_matches: AtomRange::new(3, 4),
                composite: vec![2],
            }),
            env: AtomRange::new(0, 1),
            path: None,
            url: AtomRange::default(),
            domain: AtomRange::new(9, 10),
            session: Some(SessionCond::default()),
            agent_depth: Some(DepthCond {
                gte: Some(1),
                lte: None,
                eq: Some(i64::MAX),
            }),
            tool_params: vec![(0, 4), (1, 5)],
            call_count: Some(CountCond {
                tool: Some(String::from("exec")),
                gte: 3,
                window_secs: u64::MAX,
            }),
            response: Some(ResponseCond::default()),
        };
        Program {
            text: program.text,
            default_action: Some(Action::Webhook),
            fields: vec![FieldTable {
                atoms: 4,
                always: Span { start: 1, len: 2 },
                dfas: Span { start: 16, len: 4 },
                prefilters: 1,
                confirms: Span { start: 5, len: 8 },
                confirm_index: Span { start: 13, len: 3 },
            }],
            policies: vec![PolicyProgram {
                name,
                agent: 1,
                session: 2,
                tools: AtomRange::new(0, 2),
                durable: true,
                project: false,
                rules: vec![rule],
            }],
            tool_params: vec![String::from("file_path")],
            joined_paths: vec![
                JoinedPath {
                    up: 0,
                    atom: 3,
                    joined: Some(0),
                    tail: 10,
                    limit: 256,
                },
                JoinedPath {
                    up: 2,
                    atom: 1,
                    joined: None,
                    tail: 0,
                    limit: 8192,
                },
            ],
        }
    }

    #[test]
    fn a_program_round_trips() {
        for program in [Program::default(), sample()] {
            assert_eq!(decode(&encode(&program)), Some(program));
        }
    }

    #[test]
    fn texts_read_back_and_a_damaged_range_reads_empty() {
        let program = sample();
        let rule = &program.policies[0].rules[0];
        assert_eq!(program.text(rule.message), "needs a human: ü");
        assert_eq!(program.text(program.policies[0].name), "p");
        // Past the end, and inside the two bytes of `ü`.
        assert_eq!(program.text(Text { start: 90, len: 2 }), "");
        assert_eq!(program.text(Text { start: 15, len: 1 }), "");
    }

    #[test]
    fn every_action_round_trips() {
        for action in [
            Action::Allow,
            Action::Deny,
            Action::Ask,
            Action::Watch,
            Action::Webhook,
        ] {
            let mut out = Vec::new();
            action.put(&mut out);
            assert_eq!(Action::take(&mut Reader { bytes: &out }), Some(action));
        }
    }

    #[test]
    fn damaged_bytes_are_refused_without_panicking() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "truncated to {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None, "trailing byte");
        // Every byte set to every value that matters: a count of u32::MAX, a bad tag, a bad
        // UTF-8 byte. Decoding may succeed with other values, but must not panic or allocate
        // what the input does not hold.
        for at in 0..bytes.len() {
            for value in [0x00, 0x02, 0x7f, 0xc3, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] = value;
                let _ = decode(&damaged);
            }
        }
    }

    #[test]
    fn a_huge_count_is_refused_before_allocating() {
        // default_action None, then a fields count of u32::MAX with nothing behind it.
        let bytes = [0u8, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode(&bytes), None);
    }
}
