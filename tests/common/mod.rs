//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Decodes every QR code in a PNG with a real decoder (rqrr) and returns the texts.
pub fn decode_png(bytes: &[u8]) -> Vec<String> {
    let img = image::load_from_memory(bytes).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("a readable code").1)
        .collect()
}

/// Decodes a PNG file that must hold exactly one code.
pub fn decode_one(path: &std::path::Path) -> String {
    let texts = decode_png(&std::fs::read(path).expect("the PNG exists"));
    assert_eq!(texts.len(), 1, "one code in {}", path.display());
    texts.into_iter().next().unwrap_or_default()
}
