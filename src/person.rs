//! Strict JSON (RFC 8259) to a typed [`Person`]: a hand-written recursive-descent parser.
//!
//! The parser works on the UTF-8 bytes and slices names out of the input when they hold
//! no escapes; line and column are only computed once an error has happened.
//! `host_py/sandlink/_python.py` is a rule-for-rule port: both must give the same message,
//! line and column for every input, so every rule is spelled out here, and both test
//! against the same table of cases (`host_py/tests/data/json_errors.json`).
//!
//! # Grammar
//! - Whitespace is space, `\t`, `\n` and `\r`. The document is optional whitespace, one
//!   object, optional whitespace, end.
//! - The person object has `name` (string), `age` (integer), `cars` (array of strings) and
//!   `friends` (array of objects with `name` and `age`). Any other member, in the person or
//!   in a friend, has its value fully validated as JSON and ignored. Member names are compared
//!   after unescaping (`"n\u0061me"` is `name`).
//! - `age` is a JSON number with no fraction and no exponent, in `0..=4294967295`; `-0` is 0.
//! - Numbers follow RFC 8259 exactly: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
//! - Strings: U+0000..=U+001F must be escaped; escapes are `\" \\ \/ \b \f \n \r \t \uXXXX`
//!   (hex digits in either case); a high surrogate escape must be followed at once by a low
//!   surrogate escape and the two make one character; any other surrogate is an error.
//! - Arrays and objects nest at most 128 deep; the top-level object is depth 1.
//!
//! # Errors: message and the character they point at
//! Positions are 1-based; lines end at `\n`; columns count chars (Unicode scalar values).
//! The parser reads left to right and reports the first problem it meets:
//! - `unexpected end of input`: whenever one more character is needed to go on (also inside
//!   a string, an escape, a number or a literal); it points just past the last character.
//! - `expected object`: the first character of a top-level value or of a `friends` element
//!   that does not start with `{`.
//! - `expected string`: the first character of a member name, a `name` value or a `cars`
//!   element that does not start with `"`. A trailing comma in an object lands here too
//!   (pointing at the `}`).
//! - `expected array`: the first character of a `cars` or `friends` value that is not `[`.
//! - `expected integer`: the first character of an `age` value that does not start with `-`
//!   or a digit (a string, `null`, `true`, `{`...). The value is not validated further.
//! - `age must be an integer` (a fraction or exponent), then `age out of range for u32`
//!   (below 0 or above 4294967295): the first character of the number, after the whole
//!   number has been read and found valid.
//! - `invalid number`: the first character that breaks the number grammar where a digit is
//!   required: after `-`, after `.`, after `e`/`E` and its sign, or a digit right after a
//!   leading `0` (`025` points at `2`). A number that simply ends (`1x`) is the container's
//!   business (`expected ',' or '}'` at the `x`).
//! - `expected value`: the first character of an unknown member's value or of an array
//!   element there that cannot start any JSON value (also `+`, `.`, `N`, `I`, `]` after `,`).
//! - `invalid literal`: the first character where `true`, `false` or `null` is misspelt.
//! - `expected ':'`: the character after a member name (and whitespace) that is not `:`.
//! - `expected ',' or '}'` / `expected ',' or ']'`: the character after a member value /
//!   an array element (and whitespace) that is neither.
//! - `duplicate field `x``: the opening quote of the second `x` member name (detected once
//!   its `:` has been read, before its value is looked at). Only known fields count.
//! - `missing field `x``: the closing `}` of the object; the first missing of `name`, `age`,
//!   `cars`, `friends` (friends: `name`, `age`).
//! - `invalid escape`: the backslash of an escape whose letter is not one of `"\/bfnrtu`.
//! - `invalid unicode escape`: the backslash of a `\u` escape with a non-hex character among
//!   its four digits.
//! - `lone surrogate`: the backslash of a low surrogate escape with no high one before it,
//!   or of a high surrogate escape not followed at once by `\u` and a low surrogate (a high
//!   surrogate followed by a non-`\u` escape is reported here, before that escape is read).
//! - `control character in string`: the raw U+0000..=U+001F character inside a string.
//! - `nesting too deep`: the `[` or `{` that would open level 129.
//! - `trailing characters`: the first non-whitespace character after the document.
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A friend of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Friend {
    pub name: String,
    pub age: u32,
}

/// A person, as parsed from JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub age: u32,
    pub cars: Vec<String>,
    pub friends: Vec<Friend>,
}

/// Why a document was rejected: one of the fixed messages above and its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub message: String,
    pub line: u32,
    pub column: u32,
}

/// Deepest allowed nesting of arrays and objects; the top-level object is level 1.
pub const MAX_DEPTH: u32 = 128;

/// Parses one JSON document into a [`Person`]; see the module docs for the rules.
pub fn parse_person(text: &str) -> Result<Person, JsonError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    parser.document().map_err(|fail| fail.into_error(text))
}

/// What went wrong, before the position is turned into line and column.
#[derive(Debug)]
enum Problem {
    Fixed(&'static str),
    Duplicate(&'static str),
    Missing(&'static str),
}

/// A problem at a byte offset (always on a char boundary, or the end of the input).
#[derive(Debug)]
struct Fail {
    problem: Problem,
    pos: usize,
}

impl Fail {
    fn into_error(self, text: &str) -> JsonError {
        let message = match self.problem {
            Problem::Fixed(message) => String::from(message),
            Problem::Duplicate(field) => format!("duplicate field `{field}`"),
            Problem::Missing(field) => format!("missing field `{field}`"),
        };
        let before = &text[..self.pos];
        let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let column = before[line_start..].chars().count() + 1;
        JsonError {
            message,
            line: saturate(line),
            column: saturate(column),
        }
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

type Parsed<T> = Result<T, Fail>;

const EOF: &str = "unexpected end of input";

/// A JSON number as far as `age` cares.
struct Number {
    /// No fraction and no exponent.
    integer: bool,
    negative: bool,
    /// The integer digits' value, saturating (anything above `u32::MAX` stays above it).
    magnitude: u64,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn fail<T>(&self, message: &'static str, pos: usize) -> Parsed<T> {
        Err(Fail {
            problem: Problem::Fixed(message),
            pos,
        })
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The current byte, or `unexpected end of input`.
    fn peek(&self) -> Parsed<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) => Ok(b),
            None => self.fail(EOF, self.bytes.len()),
        }
    }

    /// Skips whitespace, then the current byte.
    fn peek_token(&mut self) -> Parsed<u8> {
        self.skip_ws();
        self.peek()
    }

    fn document(&mut self) -> Parsed<Person> {
        if self.peek_token()? != b'{' {
            return self.fail("expected object", self.pos);
        }
        let person = self.person()?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return self.fail("trailing characters", self.pos);
        }
        Ok(person)
    }

    /// Opens a `[` or `{` at `self.pos`, one level deeper.
    fn enter(&mut self) -> Parsed<()> {
        if self.depth >= MAX_DEPTH {
            return self.fail("nesting too deep", self.pos);
        }
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }

    /// The members of the object whose `{` is at `self.pos`: `member(parser, name, name_pos)`
    /// is called after each name and its `:`, with `self.pos` on the value. Returns the
    /// position of the closing `}`.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &str, usize) -> Parsed<()>,
    ) -> Parsed<usize> {
        self.enter()?;
        if self.peek_token()? != b'}' {
            loop {
                if self.peek_token()? != b'"' {
                    return self.fail("expected string", self.pos);
                }
                let name_pos = self.pos;
                let name = self.string()?;
                if self.peek_token()? != b':' {
                    return self.fail("expected ':'", self.pos);
                }
                self.pos += 1;
                self.skip_ws();
                member(self, &name, name_pos)?;
                match self.peek_token()? {
                    b',' => self.pos += 1,
                    b'}' => break,
                    _ => return self.fail("expected ',' or '}'", self.pos),
                }
            }
        }
        let close = self.pos;
        self.pos += 1;
        self.depth -= 1;
        Ok(close)
    }

    /// The elements of the array whose `[` is at `self.pos`: `element(parser)` is called
    /// with `self.pos` on each element.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Parsed<()>) -> Parsed<()> {
        self.enter()?;
        if self.peek_token()? != b']' {
            loop {
                self.skip_ws();
                element(self)?;
                match self.peek_token()? {
                    b',' => self.pos += 1,
                    b']' => break,
                    _ => return self.fail("expected ',' or ']'", self.pos),
                }
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    fn person(&mut self) -> Parsed<Person> {
        let mut name = None;
        let mut age = None;
        let mut cars = None;
        let mut friends = None;
        let close = self.object(|p, key, key_pos| match key {
            "name" => set(&mut name, "name", key_pos, || p.string_value()),
            "age" => set(&mut age, "age", key_pos, || p.age()),
            "cars" => set(&mut cars, "cars", key_pos, || p.cars()),
            "friends" => set(&mut friends, "friends", key_pos, || p.friends()),
            _ => p.value(),
        })?;
        let missing = |field| Fail {
            problem: Problem::Missing(field),
            pos: close,
        };
        Ok(Person {
            name: name.ok_or_else(|| missing("name"))?,
            age: age.ok_or_else(|| missing("age"))?,
            cars: cars.ok_or_else(|| missing("cars"))?,
            friends: friends.ok_or_else(|| missing("friends"))?,
        })
    }

    fn friend(&mut self) -> Parsed<Friend> {
        let mut name = None;
        let mut age = None;
        let close = self.object(|p, key, key_pos| match key {
            "name" => set(&mut name, "name", key_pos, || p.string_value()),
            "age" => set(&mut age, "age", key_pos, || p.age()),
            _ => p.value(),
        })?;
        let missing = |field| Fail {
            problem: Problem::Missing(field),
            pos: close,
        };
        Ok(Friend {
            name: name.ok_or_else(|| missing("name"))?,
            age: age.ok_or_else(|| missing("age"))?,
        })
    }

    /// A `name` value or a car.
    fn string_value(&mut self) -> Parsed<String> {
        if self.peek()? != b'"' {
            return self.fail("expected string", self.pos);
        }
        Ok(self.string()?.into_owned())
    }

    fn age(&mut self) -> Parsed<u32> {
        let start = self.pos;
        if !matches!(self.peek()?, b'-' | b'0'..=b'9') {
            return self.fail("expected integer", start);
        }
        let number = self.number()?;
        if !number.integer {
            return self.fail("age must be an integer", start);
        }
        match u32::try_from(number.magnitude) {
            Ok(age) if !number.negative || age == 0 => Ok(age),
            _ => self.fail("age out of range for u32", start),
        }
    }

    fn cars(&mut self) -> Parsed<Vec<String>> {
        if self.peek()? != b'[' {
            return self.fail("expected array", self.pos);
        }
        let mut cars = Vec::new();
        self.array(|p| {
            cars.push(p.string_value()?);
            Ok(())
        })?;
        Ok(cars)
    }

    fn friends(&mut self) -> Parsed<Vec<Friend>> {
        if self.peek()? != b'[' {
            return self.fail("expected array", self.pos);
        }
        let mut friends = Vec::new();
        self.array(|p| {
            if p.peek()? != b'{' {
                return p.fail("expected object", p.pos);
            }
            friends.push(p.friend()?);
            Ok(())
        })?;
        Ok(friends)
    }

    /// Any JSON value, validated and thrown away.
    fn value(&mut self) -> Parsed<()> {
        match self.peek()? {
            b'{' => self.object(|p, _, _| p.value()).map(drop),
            b'[' => self.array(Self::value),
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.fail("expected value", self.pos),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Parsed<()> {
        for &expected in word {
            if self.peek()? != expected {
                return self.fail("invalid literal", self.pos);
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// A number starting at `self.pos` (a `-` or a digit).
    fn number(&mut self) -> Parsed<Number> {
        let negative = self.bytes[self.pos] == b'-';
        if negative {
            self.pos += 1;
        }
        let mut magnitude: u64 = 0;
        match self.peek()? {
            b'0' => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
                    return self.fail("invalid number", self.pos);
                }
            }
            b'1'..=b'9' => {
                while let Some(&d @ b'0'..=b'9') = self.bytes.get(self.pos) {
                    magnitude = magnitude
                        .saturating_mul(10)
                        .saturating_add(u64::from(d - b'0'));
                    self.pos += 1;
                }
            }
            _ => return self.fail("invalid number", self.pos),
        }
        let mut integer = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.digits()?;
            integer = false;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
            integer = false;
        }
        Ok(Number {
            integer,
            negative,
            magnitude,
        })
    }

    /// One or more digits (of a fraction or an exponent).
    fn digits(&mut self) -> Parsed<()> {
        if !self.peek()?.is_ascii_digit() {
            return self.fail("invalid number", self.pos);
        }
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        Ok(())
    }

    /// The string whose opening quote is at `self.pos`: borrowed when it has no escapes.
    fn string(&mut self) -> Parsed<Cow<'a, str>> {
        let start = self.pos + 1;
        let mut i = start;
        // Fast path: plain characters up to the closing quote.
        loop {
            match self.bytes.get(i) {
                None => return self.fail(EOF, i),
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(&self.text[start..i]));
                }
                Some(b'\\') => break,
                Some(&c) if c < 0x20 => return self.fail("control character in string", i),
                Some(_) => i += 1,
            }
        }
        // Slow path: copy runs of plain characters, decode escapes in between.
        let mut out = String::from(&self.text[start..i]);
        loop {
            match self.bytes.get(i) {
                None => return self.fail(EOF, i),
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => i = self.escape(i, &mut out)?,
                Some(&c) if c < 0x20 => return self.fail("control character in string", i),
                Some(_) => {
                    let run = i;
                    while let Some(&c) = self.bytes.get(i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        i += 1;
                    }
                    // `i` stops on an ASCII byte or the end: a char boundary.
                    out.push_str(&self.text[run..i]);
                }
            }
        }
    }

    /// Decodes the escape whose backslash is at `at` into `out`; returns the index after it.
    fn escape(&self, at: usize, out: &mut String) -> Parsed<usize> {
        let Some(&letter) = self.bytes.get(at + 1) else {
            return self.fail(EOF, self.bytes.len());
        };
        let c = match letter {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(at, out),
            _ => return self.fail("invalid escape", at),
        };
        out.push(c);
        Ok(at + 2)
    }

    /// `\uXXXX` at `at`, with its low surrogate partner when it is a high surrogate.
    fn unicode_escape(&self, at: usize, out: &mut String) -> Parsed<usize> {
        let unit = self.hex4(at)?;
        let after = at + 6;
        let scalar = match unit {
            0xD800..=0xDBFF => {
                match self.bytes.get(after) {
                    None => return self.fail(EOF, after),
                    Some(b'\\') => {}
                    Some(_) => return self.fail("lone surrogate", at),
                }
                match self.bytes.get(after + 1) {
                    None => return self.fail(EOF, after + 1),
                    Some(b'u') => {}
                    Some(_) => return self.fail("lone surrogate", at),
                }
                let low = self.hex4(after)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return self.fail("lone surrogate", at);
                }
                out.push(decode_pair(unit, low));
                return Ok(after + 6);
            }
            0xDC00..=0xDFFF => return self.fail("lone surrogate", at),
            _ => unit,
        };
        // Not a surrogate, so always a valid char.
        out.push(char::from_u32(scalar).unwrap_or(char::REPLACEMENT_CHARACTER));
        Ok(after)
    }

    /// The four hex digits of the `\u` escape whose backslash is at `at`.
    fn hex4(&self, at: usize) -> Parsed<u32> {
        let mut unit = 0;
        for i in at + 2..at + 6 {
            let Some(&c) = self.bytes.get(i) else {
                return self.fail(EOF, self.bytes.len());
            };
            let Some(digit) = (c as char).to_digit(16) else {
                return self.fail("invalid unicode escape", at);
            };
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }
}

/// Stores a known field's value, or reports the field as a duplicate at its name.
fn set<T>(
    slot: &mut Option<T>,
    field: &'static str,
    key_pos: usize,
    value: impl FnOnce() -> Parsed<T>,
) -> Parsed<()> {
    if slot.is_some() {
        return Err(Fail {
            problem: Problem::Duplicate(field),
            pos: key_pos,
        });
    }
    *slot = Some(value()?);
    Ok(())
}

fn decode_pair(high: u32, low: u32) -> char {
    let scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    char::from_u32(scalar).unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const SEED: &str = include_str!("../host_py/tests/data/seed_person.json");
    /// `[input, message, line, column]` rows, shared with the Python reference's tests.
    const ERRORS: &str = include_str!("../host_py/tests/data/json_errors.json");

    fn err(message: &str, line: u32, column: u32) -> JsonError {
        JsonError {
            message: message.to_string(),
            line,
            column,
        }
    }

    fn person(name: &str, age: u32, cars: &[&str], friends: &[(&str, u32)]) -> Person {
        Person {
            name: name.to_string(),
            age,
            cars: cars.iter().map(|c| c.to_string()).collect(),
            friends: friends
                .iter()
                .map(|&(name, age)| Friend {
                    name: name.to_string(),
                    age,
                })
                .collect(),
        }
    }

    /// A minimal person around an extra member `extra` (e.g. `"x": [1]`).
    fn with_member(extra: &str) -> String {
        format!(r#"{{"name": "a", {extra}, "age": 1, "cars": [], "friends": []}}"#)
    }

    /// Reads the shared error table with the parser's own string and number readers.
    fn error_table() -> Vec<(String, JsonError)> {
        let mut p = Parser {
            text: ERRORS,
            bytes: ERRORS.as_bytes(),
            pos: 0,
            depth: 0,
        };
        let expect = |p: &mut Parser, byte: u8| {
            assert_eq!(
                p.peek_token().unwrap(),
                byte,
                "table syntax at byte {}",
                p.pos
            );
            p.pos += 1;
        };
        let mut rows = Vec::new();
        expect(&mut p, b'[');
        loop {
            expect(&mut p, b'[');
            p.skip_ws();
            let input = p.string().unwrap().into_owned();
            expect(&mut p, b',');
            p.skip_ws();
            let message = p.string().unwrap().into_owned();
            expect(&mut p, b',');
            p.skip_ws();
            let line = p.number().unwrap().magnitude as u32;
            expect(&mut p, b',');
            p.skip_ws();
            let column = p.number().unwrap().magnitude as u32;
            expect(&mut p, b']');
            rows.push((input, err(&message, line, column)));
            if p.peek_token().unwrap() == b']' {
                break;
            }
            expect(&mut p, b',');
        }
        rows
    }

    #[test]
    fn seed_document() {
        let expected = person(
            "Elliot",
            25,
            &["Audi", "BMW", "Tesla"],
            &[("Alice", 30), ("Bob", 27), ("Zoë", 31)],
        );
        assert_eq!(parse_person(SEED), Ok(expected));
    }

    #[test]
    fn every_error_in_the_shared_table() {
        let rows = error_table();
        assert!(rows.len() > 100);
        let wrong: Vec<_> = rows
            .iter()
            .filter(|(input, expected)| parse_person(input).as_ref() != Err(expected))
            .map(|(input, expected)| (input, expected, parse_person(input)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn every_message_is_covered_by_the_table() {
        let rows = error_table();
        for message in [
            "expected value",
            "expected object",
            "expected string",
            "expected array",
            "expected integer",
            "age must be an integer",
            "age out of range for u32",
            "invalid number",
            "expected ':'",
            "expected ',' or '}'",
            "expected ',' or ']'",
            "duplicate field `name`",
            "duplicate field `age`",
            "missing field `name`",
            "missing field `age`",
            "missing field `cars`",
            "missing field `friends`",
            "unexpected end of input",
            "invalid escape",
            "invalid unicode escape",
            "lone surrogate",
            "control character in string",
            "trailing characters",
            "nesting too deep",
            "invalid literal",
        ] {
            assert!(rows.iter().any(|(_, e)| e.message == message), "{message}");
        }
    }

    #[test]
    fn positions_count_lines_and_chars() {
        let text = "{\n  \"name\": \"Zoë 🦀\",\n  \"age\": true}";
        assert_eq!(parse_person(text), Err(err("expected integer", 3, 10)));
        let text = "{\"name\": \"日本\", \"age\": 1, \"cars\": [], \"friends\": []}\n\n";
        assert_eq!(parse_person(text).unwrap().name, "日本");
        assert_eq!(
            parse_person(&text.replace("\n\n", "\n\nz")),
            Err(err("trailing characters", 3, 1))
        );
    }

    #[test]
    fn whitespace_around_and_inside() {
        let text =
            " \t\r\n{ \"name\" :\t\"a\" ,\r\n\"age\" : 0 , \"cars\" : [ ] , \"friends\" : [ ] } \n";
        assert_eq!(parse_person(text), Ok(person("a", 0, &[], &[])));
    }

    #[test]
    fn age_bounds() {
        let doc = |age: &str| {
            parse_person(&format!(
                r#"{{"name": "a", "age": {age}, "cars": [], "friends": []}}"#
            ))
        };
        assert_eq!(doc("0").unwrap().age, 0);
        assert_eq!(doc("-0").unwrap().age, 0);
        assert_eq!(doc("4294967295").unwrap().age, u32::MAX);
        assert_eq!(
            doc("4294967296"),
            Err(err("age out of range for u32", 1, 22))
        );
        assert_eq!(
            doc("18446744073709551616"),
            Err(err("age out of range for u32", 1, 22))
        );
        assert_eq!(
            doc("-4294967296"),
            Err(err("age out of range for u32", 1, 22))
        );
        assert_eq!(doc("1e0"), Err(err("age must be an integer", 1, 22)));
    }

    #[test]
    fn unicode_escapes_and_raw_text() {
        let doc = |name: &str| {
            parse_person(&format!(
                r#"{{"name": "{name}", "age": 1, "cars": ["{name}"], "friends": [{{"name": "{name}", "age": 2}}]}}"#
            ))
            .map(|p| {
                assert_eq!(p.cars[0], p.name);
                assert_eq!(p.friends[0].name, p.name);
                p.name
            })
        };
        assert_eq!(doc(r"\ud83e\udd80").unwrap(), "🦀");
        assert_eq!(doc(r"\uD83E\uDD80").unwrap(), "🦀");
        assert_eq!(doc(r"Zo\u00eb \u00E9\u4e2d").unwrap(), "Zoë é中");
        assert_eq!(doc("Zoë 🦀 中文").unwrap(), "Zoë 🦀 中文");
        assert_eq!(doc(r#"\"\\\/\b\f\n\r\t"#).unwrap(), "\"\\/\u{8}\u{c}\n\r\t");
        assert_eq!(doc(r"a\u0000b").unwrap(), "a\0b");
        assert_eq!(
            doc(r"\uffff\u0080\u07ff\u0800").unwrap(),
            "\u{ffff}\u{80}\u{7ff}\u{800}"
        );
        assert_eq!(doc(r"\udbff\udfff").unwrap(), "\u{10ffff}");
        assert_eq!(doc(r"\ud800\udc00").unwrap(), "\u{10000}");
        assert_eq!(doc("\u{7f}\u{feff}").unwrap(), "\u{7f}\u{feff}");
        assert_eq!(doc(r"x\ud83e\udd80y🦀\n").unwrap(), "x🦀y🦀\n");
    }

    #[test]
    fn unknown_fields_of_every_kind_are_ignored() {
        for value in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "-12.5e+3",
            "1E-7",
            "0.0",
            "123456789012345678901234567890",
            r#""text with \"escapes\" \u00e9 \ud83e\udd80""#,
            "[]",
            "{}",
            r#"[1, "two", [3, [4, {}]], {"five": [5]}, null, true, false]"#,
            r#"{"a": {"b": {"c": [1, 2, {"d": null}]}}, "a": "duplicate unknowns are fine"}"#,
            r#"{"name": 1, "age": "x"}"#,
        ] {
            let text = with_member(&format!(r#""x": {value}"#));
            assert_eq!(parse_person(&text), Ok(person("a", 1, &[], &[])), "{text}");
        }
        let text = r#"{"name": "a", "age": 1, "cars": [], "friends": [{"nick": ["x", {"y": 1}], "name": "b", "age": 2, "z": null}], "extra": {}}"#;
        assert_eq!(parse_person(text), Ok(person("a", 1, &[], &[("b", 2)])));
    }

    #[test]
    fn nesting_128_levels_is_fine() {
        // The top-level object is level 1, so 127 arrays inside it reach level 128.
        let deep = format!(r#""x": {}{}"#, "[".repeat(127), "]".repeat(127));
        assert!(parse_person(&with_member(&deep)).is_ok());
        let deep = format!(r#""x": {}1{}"#, r#"{"y": "#.repeat(127), "}".repeat(127));
        assert!(parse_person(&with_member(&deep)).is_ok());
        // Friends are at level 3.
        let deep = format!(
            r#"{{"name": "a", "age": 1, "cars": [], "friends": [{{"name": "b", "age": 2, "x": {}{}}}]}}"#,
            "[".repeat(125),
            "]".repeat(125)
        );
        assert!(parse_person(&deep).is_ok());
    }

    #[test]
    fn nesting_129_levels_is_an_error() {
        let deep = format!(r#""x": {}{}"#, "[".repeat(128), "]".repeat(128));
        let e = parse_person(&with_member(&deep)).unwrap_err();
        assert_eq!(e.message, "nesting too deep");
        assert_eq!((e.line, e.column), (1, 19 + 128));
    }

    #[test]
    fn nesting_100_000_levels_fails_fast_without_overflowing_the_stack() {
        for open in ["[", r#"{"a":"#] {
            let deep = format!(r#""x": {}"#, open.repeat(100_000));
            let e = parse_person(&with_member(&deep)).unwrap_err();
            assert_eq!(e.message, "nesting too deep");
        }
    }

    #[test]
    fn cars_and_friends_keep_document_order() {
        let text = r#"{"friends": [{"age": 1, "name": "x"}, {"name": "y", "age": 2}], "cars": ["c", "b", "a"], "age": 3, "name": "n"}"#;
        assert_eq!(
            parse_person(text),
            Ok(person("n", 3, &["c", "b", "a"], &[("x", 1), ("y", 2)]))
        );
    }

    #[test]
    fn names_are_borrowed_when_plain_and_decoded_otherwise() {
        let text = r#""plain" "esc\naped""#;
        let mut p = Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        assert!(matches!(p.string().unwrap(), Cow::Borrowed("plain")));
        p.skip_ws();
        assert_eq!(
            p.string().unwrap(),
            Cow::<str>::Owned("esc\naped".to_string())
        );
        assert_eq!(p.pos, text.len());
    }
}
