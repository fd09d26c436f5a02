//! Delimited tables through the Gervet and pyBKT mappings: no panic on any bytes.
#![no_main]

use attune_core::Vocab;
use attune_data::{ColumnMapping, parse_table};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for mapping in [ColumnMapping::gervet(), ColumnMapping::pybkt()] {
        if let Ok(ds) = parse_table("fuzz".as_ref(), data, &mapping, None, Vocab::default()) {
            assert_eq!(ds.learners().map(|r| r.len()).sum::<usize>(), ds.len());
        }
    }
    // The same bytes after a valid header, so the fuzzer reaches the row parser quickly.
    let mut with_header = b"user_id\titem_id\ttimestamp\tcorrect\tskill_id\n".to_vec();
    with_header.extend_from_slice(data);
    let _ = parse_table("fuzz".as_ref(), &with_header, &ColumnMapping::gervet(), None, Vocab::default());
});
