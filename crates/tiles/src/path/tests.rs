//! Tile path parsing and formatting: the accepted and rejected forms, and round trips.

use proptest::prelude::*;

use super::*;

struct Case {
    name: &'static str,
    path: &'static str,
    want: Result<TilePath, Error>,
}

const fn hash(level: u8, index: u64, width: u16) -> Result<TilePath, Error> {
    Ok(TilePath::Hash {
        level,
        index,
        width,
    })
}

const fn entries(index: u64, width: u16) -> Result<TilePath, Error> {
    Ok(TilePath::Entries { index, width })
}

fn bad_element(element: &str) -> Result<TilePath, Error> {
    Err(Error::BadIndexElement {
        element: element.to_owned(),
    })
}

fn cases() -> Vec<Case> {
    let bad_level = |level: &str| {
        Err(Error::BadLevel {
            level: level.to_owned(),
        })
    };
    let bad_width = |width: &str| {
        Err(Error::BadPartialWidth {
            width: width.to_owned(),
        })
    };
    let bad_prefix = |path: &str| {
        Err(Error::BadPrefix {
            path: path.to_owned(),
        })
    };
    let non_canonical = |index: &str| {
        Err(Error::NonCanonicalIndex {
            index: index.to_owned(),
        })
    };
    let overflow = |index: &str| {
        Err(Error::IndexOverflow {
            index: index.to_owned(),
        })
    };
    vec![
        // Accepted.
        Case {
            name: "level 0 index 0",
            path: "tile/0/000",
            want: hash(0, 0, 256),
        },
        Case {
            name: "spec example",
            path: "tile/0/x001/x234/067",
            want: hash(0, 1_234_067, 256),
        },
        Case {
            name: "partial",
            path: "tile/1/x001/x234/067.p/8",
            want: hash(1, 1_234_067, 8),
        },
        Case {
            name: "partial width 1",
            path: "tile/0/000.p/1",
            want: hash(0, 0, 1),
        },
        Case {
            name: "partial width 255",
            path: "tile/0/000.p/255",
            want: hash(0, 0, 255),
        },
        Case {
            name: "level 63",
            path: "tile/63/999",
            want: hash(63, 999, 256),
        },
        Case {
            name: "two groups",
            path: "tile/2/x001/000",
            want: hash(2, 1000, 256),
        },
        Case {
            name: "zero inner group",
            path: "tile/0/x001/x000/000",
            want: hash(0, 1_000_000, 256),
        },
        Case {
            name: "u64 max",
            path: "tile/0/x018/x446/x744/x073/x709/x551/615",
            want: hash(0, u64::MAX, 256),
        },
        Case {
            name: "entries",
            path: "tile/entries/x001/x234/067",
            want: entries(1_234_067, 256),
        },
        Case {
            name: "partial entries",
            path: "tile/entries/123.p/45",
            want: entries(123, 45),
        },
        // Prefix.
        Case {
            name: "empty",
            path: "",
            want: bad_prefix(""),
        },
        Case {
            name: "leading slash",
            path: "/tile/0/000",
            want: bad_prefix("/tile/0/000"),
        },
        Case {
            name: "other resource",
            path: "checkpoint",
            want: bad_prefix("checkpoint"),
        },
        Case {
            name: "capital prefix",
            path: "Tile/0/000",
            want: bad_prefix("Tile/0/000"),
        },
        // Level.
        Case {
            name: "empty level",
            path: "tile//000",
            want: bad_level(""),
        },
        Case {
            name: "level leading zero",
            path: "tile/01/000",
            want: bad_level("01"),
        },
        Case {
            name: "level signed",
            path: "tile/+1/000",
            want: bad_level("+1"),
        },
        Case {
            name: "level not a number",
            path: "tile/data/000",
            want: bad_level("data"),
        },
        Case {
            name: "level 64",
            path: "tile/64/000",
            want: Err(Error::LevelOutOfRange { level: 64 }),
        },
        Case {
            name: "level 256",
            path: "tile/256/000",
            want: Err(Error::LevelOutOfRange { level: 256 }),
        },
        Case {
            name: "level past u64",
            path: "tile/99999999999999999999/000",
            want: bad_level("99999999999999999999"),
        },
        // Index.
        Case {
            name: "missing index",
            path: "tile/0",
            want: bad_element(""),
        },
        Case {
            name: "empty index",
            path: "tile/0/",
            want: bad_element(""),
        },
        Case {
            name: "entries missing index",
            path: "tile/entries/",
            want: bad_element(""),
        },
        Case {
            name: "two digits",
            path: "tile/0/01",
            want: bad_element("01"),
        },
        Case {
            name: "four digits",
            path: "tile/0/0001",
            want: bad_element("0001"),
        },
        Case {
            name: "unpadded",
            path: "tile/0/1",
            want: bad_element("1"),
        },
        Case {
            name: "x on last element",
            path: "tile/0/x001",
            want: bad_element("x001"),
        },
        Case {
            name: "x on last of two",
            path: "tile/0/x001/x002",
            want: bad_element("x002"),
        },
        Case {
            name: "missing x",
            path: "tile/0/001/002",
            want: bad_element("001"),
        },
        Case {
            name: "capital x",
            path: "tile/0/X001/002",
            want: bad_element("X001"),
        },
        Case {
            name: "trailing slash",
            path: "tile/0/000/",
            want: bad_element("000"),
        },
        Case {
            name: "double slash",
            path: "tile/0/x001//002",
            want: bad_element(""),
        },
        Case {
            name: "non-digit",
            path: "tile/0/0a0",
            want: bad_element("0a0"),
        },
        Case {
            name: "x alone",
            path: "tile/0/x/000",
            want: bad_element("x"),
        },
        Case {
            name: "leading x000",
            path: "tile/0/x000/001",
            want: non_canonical("x000/001"),
        },
        Case {
            name: "leading x000 on entries",
            path: "tile/entries/x000/x001/001",
            want: non_canonical("x000/x001/001"),
        },
        Case {
            name: "overflow by one",
            path: "tile/0/x018/x446/x744/x073/x709/x551/616",
            want: overflow("x018/x446/x744/x073/x709/x551/616"),
        },
        Case {
            name: "overflow by a group",
            path: "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
            want: overflow("x001/x000/x000/x000/x000/x000/x000/000"),
        },
        Case {
            name: "non-ascii digit",
            path: "tile/0/٠٠٠",
            want: bad_element("٠٠٠"),
        },
        // Partial width.
        Case {
            name: "width 0",
            path: "tile/0/000.p/0",
            want: Err(Error::WidthOutOfRange { width: 0 }),
        },
        Case {
            name: "width 256",
            path: "tile/0/000.p/256",
            want: Err(Error::WidthOutOfRange { width: 256 }),
        },
        Case {
            name: "width 1000",
            path: "tile/entries/000.p/1000",
            want: Err(Error::WidthOutOfRange { width: 1000 }),
        },
        Case {
            name: "width leading zero",
            path: "tile/0/000.p/08",
            want: bad_width("08"),
        },
        Case {
            name: "width empty",
            path: "tile/0/000.p/",
            want: bad_width(""),
        },
        Case {
            name: "width signed",
            path: "tile/0/000.p/+8",
            want: bad_width("+8"),
        },
        Case {
            name: "width trailing slash",
            path: "tile/0/000.p/8/",
            want: bad_width("8/"),
        },
        Case {
            name: "width extra element",
            path: "tile/0/000.p/8/000",
            want: bad_width("8/000"),
        },
        Case {
            name: "width past u64",
            path: "tile/0/000.p/99999999999999999999",
            want: bad_width("99999999999999999999"),
        },
        Case {
            name: "dot p without width",
            path: "tile/0/000.p",
            want: bad_element("000.p"),
        },
        Case {
            name: "partial on inner element",
            path: "tile/0/x001.p/8",
            want: bad_element("x001"),
        },
        Case {
            name: "partial index with x",
            path: "tile/0/x001/002.p/8.p/9",
            want: bad_width("8.p/9"),
        },
    ]
}

#[test]
fn parses_and_rejects_table() {
    for case in cases() {
        assert_eq!(TilePath::parse(case.path), case.want, "case {}", case.name);
        if let Ok(path) = case.want {
            assert_eq!(
                path.to_string(),
                case.path,
                "case {}: formats back",
                case.name
            );
            assert_eq!(
                case.path.parse::<TilePath>(),
                Ok(path),
                "case {}: FromStr",
                case.name
            );
        }
    }
}

struct IndexCase {
    name: &'static str,
    index: u64,
    text: &'static str,
}

const INDEX_CASES: &[IndexCase] = &[
    IndexCase {
        name: "zero",
        index: 0,
        text: "000",
    },
    IndexCase {
        name: "one digit",
        index: 5,
        text: "005",
    },
    IndexCase {
        name: "three digits",
        index: 999,
        text: "999",
    },
    IndexCase {
        name: "one thousand",
        index: 1000,
        text: "x001/000",
    },
    IndexCase {
        name: "spec example",
        index: 1_234_067,
        text: "x001/x234/067",
    },
    IndexCase {
        name: "inner zero group",
        index: 1_000_001,
        text: "x001/x000/001",
    },
    IndexCase {
        name: "u64 max",
        index: u64::MAX,
        text: "x018/x446/x744/x073/x709/x551/615",
    },
];

#[test]
fn encodes_and_parses_index_table() {
    for case in INDEX_CASES {
        assert_eq!(encode_index(case.index), case.text, "case {}", case.name);
        assert_eq!(parse_index(case.text), Ok(case.index), "case {}", case.name);
    }
}

#[test]
fn constructors_check_ranges() {
    assert_eq!(TilePath::hash_tile(63, 7, 256), hash(63, 7, 256));
    assert_eq!(
        TilePath::hash_tile(64, 7, 256),
        Err(Error::LevelOutOfRange { level: 64 })
    );
    assert_eq!(
        TilePath::hash_tile(0, 7, 0),
        Err(Error::WidthOutOfRange { width: 0 })
    );
    assert_eq!(TilePath::entry_bundle(7, 1), entries(7, 1));
    assert_eq!(
        TilePath::entry_bundle(7, 257),
        Err(Error::WidthOutOfRange { width: 257 })
    );
}

fn any_tile_path() -> impl Strategy<Value = TilePath> {
    prop_oneof![
        (0..=MAX_LEVEL, any::<u64>(), 1..=FULL_WIDTH).prop_map(|(level, index, width)| {
            TilePath::Hash {
                level,
                index,
                width,
            }
        }),
        (any::<u64>(), 1..=FULL_WIDTH)
            .prop_map(|(index, width)| TilePath::Entries { index, width }),
    ]
}

proptest! {
    #[test]
    fn parse_inverts_display(path in any_tile_path()) {
        prop_assert_eq!(TilePath::parse(&path.to_string()), Ok(path));
    }

    #[test]
    fn parse_index_inverts_encode_index(index in any::<u64>()) {
        prop_assert_eq!(parse_index(&encode_index(index)), Ok(index));
    }

    #[test]
    fn parse_never_panics_on_any_string(text in ".*") {
        let _ = TilePath::parse(&text);
    }

    #[test]
    fn accepted_paths_are_canonical(
        text in "tile/(entries|0|1|63|64|01)/((x|)[0-9]{2,4}/){0,8}(x|)[0-9]{2,4}(\\.p/[0-9]{1,3})?"
    ) {
        if let Ok(path) = TilePath::parse(&text) {
            prop_assert_eq!(path.to_string(), text);
        }
    }
}
