//! QR placeholder
