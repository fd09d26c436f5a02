//! Junyi exercise tables: no panic on any bytes; a table it returns names every exercise and
//! only edges into the exercises it lists.
#![no_main]

use attune_data::parse_junyi_prerequisites;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = parse_junyi_prerequisites("fuzz".as_ref(), data) {
        assert!(!t.nodes.is_empty() && t.nodes.iter().all(|n| !n.is_empty()));
        assert!(t.edges.iter().all(|(pre, after)| !pre.is_empty() && t.nodes.contains(after)));
    }
    // The same bytes after a valid header, so the fuzzer reaches the row parser quickly.
    let mut with_header = b"name,live,prerequisites\n".to_vec();
    with_header.extend_from_slice(data);
    let _ = parse_junyi_prerequisites("fuzz".as_ref(), &with_header);
});
