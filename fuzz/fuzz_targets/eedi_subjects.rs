//! Eedi subject trees: no panic on any bytes; a table it returns has one node per row and
//! edges between its nodes only.
#![no_main]

use attune_data::parse_eedi_subjects;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let check = |bytes: &[u8]| {
        if let Ok(t) = parse_eedi_subjects("fuzz".as_ref(), bytes) {
            assert!(!t.nodes.is_empty());
            let unique: std::collections::HashSet<&String> = t.nodes.iter().collect();
            assert_eq!(unique.len(), t.nodes.len(), "a subject id twice");
            assert!(t.edges.iter().all(|(a, b)| unique.contains(a) && unique.contains(b)));
        }
    };
    check(data);
    // The same bytes after a valid header, so the fuzzer reaches the row parser quickly.
    let mut with_header = b"SubjectId,Name,ParentId,Level\n".to_vec();
    with_header.extend_from_slice(data);
    check(&with_header);
});
