//! Unit tests of the XML tokenizer.

use super::*;

/// All leaves as (path, value) strings, or `None` when the document is not well formed.
fn leaves(doc: &str) -> Option<Vec<(String, String)>> {
    let mut walk = XmlLeaves::new(doc.as_bytes());
    let mut out = Vec::new();
    loop {
        match walk.next_leaf() {
            Ok(Some((path, value))) => out.push((
                path.to_string(),
                String::from_utf8_lossy(value).into_owned(),
            )),
            Ok(None) => break,
            Err(NotXml) => {
                assert!(!is_well_formed(doc.as_bytes()));
                return None;
            }
        }
    }
    assert!(is_well_formed(doc.as_bytes()));
    Some(out)
}

fn pairs(items: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        items
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn elements_attributes_text() {
    let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <!-- a comment with <tags> -->\n\
        <root>\n  <device id=\"d&amp;1\" kind='phone' empty=\"\">\n    \
        <imei>356938035643809</imei>\n    <mac><![CDATA[3c:28:6d:<x>]]></mac>\n    \
        <note>R&#38;D &lt;lab&gt; &quot;&apos; &#x41;&#66;</note>\n  </device>\n  \
        <item>1</item><item>2</item>\n  <self v=\"x\"/>\n  <?pi stuff?>\n</root>\n<!-- end -->\n";
    assert_eq!(
        leaves(doc),
        pairs(&[
            ("/root/device/@id", "d&1"),
            ("/root/device/@kind", "phone"),
            ("/root/device/imei", "356938035643809"),
            ("/root/device/mac", "3c:28:6d:<x>"),
            ("/root/device/note", "R&D <lab> \"' AB"),
            ("/root/item", "1"),
            ("/root/item", "2"),
            ("/root/self/@v", "x"),
        ])
    );
    assert!(looks_like_xml(doc.as_bytes()));
}

#[test]
fn mixed_content_and_namespaces() {
    assert_eq!(
        leaves("<a> x <b>y</b> z </a>"),
        pairs(&[("/a/b", "y"), ("/a", "x  z")])
    );
    assert_eq!(
        leaves(
            "<soap:Envelope xmlns:soap=\"urn:s\"><soap:Body><m:Id xmlns:m=\"urn:m\">7</m:Id>\
             </soap:Body></soap:Envelope>"
        ),
        pairs(&[
            ("/soap:Envelope/@xmlns:soap", "urn:s"),
            ("/soap:Envelope/soap:Body/m:Id/@xmlns:m", "urn:m"),
            ("/soap:Envelope/soap:Body/m:Id", "7"),
        ])
    );
    assert_eq!(leaves("<r/>"), pairs(&[]));
    assert_eq!(leaves("<r a = \"1\" />"), pairs(&[("/r/@a", "1")]));
    assert_eq!(leaves("<r>\n</r  >"), pairs(&[]));
}

#[test]
fn references() {
    let unescape = |raw: &str| {
        let mut out = Vec::new();
        push_unescaped(raw.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(unescape("&amp;&lt;&gt;&quot;&apos;"), "&<>\"'");
    assert_eq!(unescape("&#233;&#xE9;&#X1F600;"), "éé\u{1f600}");
    // Unknown, malformed and invalid references are kept as they are.
    assert_eq!(
        unescape("&lol9;&#0;&#xD800;&#x110000;&#;&amp"),
        "&lol9;&#0;&#xD800;&#x110000;&#;&amp"
    );
    assert_eq!(
        unescape("& &&amp; &#99999999999999999999;"),
        "& && &#99999999999999999999;"
    );
    assert_eq!(unescape("a&"), "a&");
}

#[test]
fn entity_bombs_are_not_expanded() {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    doc.push_str(" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..10 {
        doc.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    doc.push_str(" <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n<lolz>&lol9;&xxe;</lolz>");
    assert_eq!(leaves(&doc), pairs(&[("/lolz", "&lol9;&xxe;")]));
}

#[test]
fn malformed_documents() {
    for doc in [
        "",
        "<",
        "<a>",
        "<a>text",
        "<a></b>",
        "<a><b></a></b>",
        "<a/><b/>",
        "text<a/>",
        "<a/>text",
        "<a x=\"1></a>",
        "<a x=1></a>",
        "<a x></a>",
        "<a x=\"<\"></a>",
        "<a\"x\"></a>",
        "<3 you>",
        "<a>1 < 2</a>",
        "<a><![CDATA[open</a>",
        "<![CDATA[x]]><a/>",
        "<!-- open <a/>",
        "<?pi <a/>",
        "<a/><!DOCTYPE a>",
        "<!DOCTYPE a [ <!ENTITY x \"]>\">",
        "<a></a",
        "</a>",
    ] {
        assert_eq!(leaves(doc), None, "{doc:?}");
    }
}

#[test]
fn caps() {
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    assert!(!is_well_formed(deep.as_bytes()));
    let within = format!(
        "{}x{}",
        "<a>".repeat(MAX_XML_DEPTH),
        "</a>".repeat(MAX_XML_DEPTH)
    );
    let got = leaves(&within).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "/a".repeat(MAX_XML_DEPTH));
    let too_deep = format!(
        "{}x{}",
        "<a>".repeat(MAX_XML_DEPTH + 1),
        "</a>".repeat(MAX_XML_DEPTH + 1)
    );
    assert_eq!(leaves(&too_deep), None);
    let wide = format!("<r>{}</r>", "<i/>".repeat(MAX_XML_ELEMENTS));
    assert!(!is_well_formed(wide.as_bytes()));
    let fits = format!("<r>{}</r>", "<i/>".repeat(MAX_XML_ELEMENTS - 1));
    assert!(is_well_formed(fits.as_bytes()));
}

#[test]
fn long_names_are_shortened() {
    let name = "n".repeat(10_000);
    let doc = format!("<{name} {name}=\"v\">t</{name}>");
    let short = format!("{}…{}", "n".repeat(MAX_PATH_KEY_CHARS), key_digest(&name));
    assert_eq!(
        leaves(&doc),
        Some(vec![
            (format!("/{short}/@{short}"), "v".to_string()),
            (format!("/{short}"), "t".to_string()),
        ])
    );
}

#[test]
fn sniffing() {
    assert!(looks_like_xml(b"  \r\n<a/>"));
    assert!(looks_like_xml(b"<?xml?>"));
    assert!(looks_like_xml(b"<!DOCTYPE html>"));
    assert!(!looks_like_xml(b"<3"));
    assert!(!looks_like_xml(b"< a>"));
    assert!(!looks_like_xml(b"a<b/>"));
    assert!(!looks_like_xml(b"<"));
    assert!(!looks_like_xml(b""));
}
