//! AdmissionReview requests, their images, and pod-list / image-list inventories on arbitrary
//! bytes: each parses or fails without panicking; the images of a parsed request each carry a
//! JSON pointer that resolves, in the request's object, to that image string, and a response
//! always writes JSON that parses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_enforce::admission::{Request, Response, images};
use waxseal_enforce::inventory::{parse_image_list, parse_pod_list};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::parse(data) {
        if let Ok(uses) = images(&request) {
            let object = request.object.as_ref().expect("images come from the object");
            for image in &uses {
                let found = object.pointer(&image.pointer).and_then(|v| v.as_str());
                assert_eq!(found, Some(image.image.as_str()), "{}", image.pointer);
            }
        }
        let response = Response::deny(request.uid.clone(), "denied");
        let json = response.to_review_json(&request.api_version);
        serde_json::from_slice::<serde_json::Value>(&json).expect("a response is JSON");
    }
    let _ = parse_pod_list(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_image_list(text, "fuzz");
    }
});
