//! Numbering tables for device and subscriber identifiers: IMEI reporting bodies, mobile country
//! codes (ITU-T E.212) and a compact table of large mobile networks.
//!
//! The tables are small on purpose. The MCC table lists the geographic codes in use (plus `001`,
//! the test network, and `901`, international networks); the MNC table lists only large operators,
//! so an IMSI whose network is not listed is still recognised by its MCC, with lower confidence.

/// GSMA reporting-body identifiers: the first two digits of an IMEI's type allocation code (TAC).
/// A 15-digit number that passes the Luhn check but starts with another pair is not reported as
/// an IMEI (one random number in ten passes the Luhn check; few start with these pairs).
const REPORTING_BODIES: &[(&str, &str)] = &[
    ("01", "PTCRB, USA"),
    ("10", "PTCRB, USA"),
    ("30", "Iridium"),
    ("33", "DGPT, France"),
    ("35", "BABT, UK"),
    ("44", "BABT, UK"),
    ("45", "NTA, Denmark"),
    ("49", "BZT/BAPT, Germany"),
    ("50", "BZT ETS, Germany"),
    ("51", "Cetecom ICT, Germany"),
    ("52", "Cetecom, Germany"),
    ("53", "TÜV, Germany"),
    ("54", "Phoenix Test Lab, UK"),
    ("86", "TAF, China"),
    ("91", "MSAI, India"),
    ("98", "BABT, UK"),
    ("99", "GHA, multi-RAT"),
];

/// The reporting body named by the first two digits of a TAC, when they are a known one.
pub(crate) fn reporting_body(digits: &[u8]) -> Option<&'static str> {
    let prefix = digits.get(..2)?;
    REPORTING_BODIES
        .iter()
        .find(|(code, _)| code.as_bytes() == prefix)
        .map(|&(_, name)| name)
}

/// Mobile country codes in use (ITU-T E.212), sorted.
const MCCS: &[(u16, &str)] = &[
    (1, "test network"),
    (202, "Greece"),
    (204, "Netherlands"),
    (206, "Belgium"),
    (208, "France"),
    (212, "Monaco"),
    (213, "Andorra"),
    (214, "Spain"),
    (216, "Hungary"),
    (218, "Bosnia and Herzegovina"),
    (219, "Croatia"),
    (220, "Serbia"),
    (221, "Kosovo"),
    (222, "Italy"),
    (225, "Vatican"),
    (226, "Romania"),
    (228, "Switzerland"),
    (230, "Czechia"),
    (231, "Slovakia"),
    (232, "Austria"),
    (234, "United Kingdom"),
    (235, "United Kingdom"),
    (238, "Denmark"),
    (240, "Sweden"),
    (242, "Norway"),
    (244, "Finland"),
    (246, "Lithuania"),
    (247, "Latvia"),
    (248, "Estonia"),
    (250, "Russia"),
    (255, "Ukraine"),
    (257, "Belarus"),
    (259, "Moldova"),
    (260, "Poland"),
    (262, "Germany"),
    (266, "Gibraltar"),
    (268, "Portugal"),
    (270, "Luxembourg"),
    (272, "Ireland"),
    (274, "Iceland"),
    (276, "Albania"),
    (278, "Malta"),
    (280, "Cyprus"),
    (282, "Georgia"),
    (283, "Armenia"),
    (284, "Bulgaria"),
    (286, "Turkey"),
    (288, "Faroe Islands"),
    (290, "Greenland"),
    (292, "San Marino"),
    (293, "Slovenia"),
    (294, "North Macedonia"),
    (295, "Liechtenstein"),
    (297, "Montenegro"),
    (302, "Canada"),
    (308, "Saint Pierre and Miquelon"),
    (310, "United States"),
    (311, "United States"),
    (312, "United States"),
    (313, "United States"),
    (314, "United States"),
    (315, "United States"),
    (316, "United States"),
    (330, "Puerto Rico"),
    (332, "US Virgin Islands"),
    (334, "Mexico"),
    (338, "Jamaica"),
    (340, "French Antilles"),
    (342, "Barbados"),
    (344, "Antigua and Barbuda"),
    (346, "Cayman Islands"),
    (348, "British Virgin Islands"),
    (350, "Bermuda"),
    (352, "Grenada"),
    (354, "Montserrat"),
    (356, "Saint Kitts and Nevis"),
    (358, "Saint Lucia"),
    (360, "Saint Vincent and the Grenadines"),
    (362, "Curaçao"),
    (363, "Aruba"),
    (364, "Bahamas"),
    (365, "Anguilla"),
    (366, "Dominica"),
    (368, "Cuba"),
    (370, "Dominican Republic"),
    (372, "Haiti"),
    (374, "Trinidad and Tobago"),
    (376, "Turks and Caicos Islands"),
    (400, "Azerbaijan"),
    (401, "Kazakhstan"),
    (402, "Bhutan"),
    (404, "India"),
    (405, "India"),
    (406, "India"),
    (410, "Pakistan"),
    (412, "Afghanistan"),
    (413, "Sri Lanka"),
    (414, "Myanmar"),
    (415, "Lebanon"),
    (416, "Jordan"),
    (417, "Syria"),
    (418, "Iraq"),
    (419, "Kuwait"),
    (420, "Saudi Arabia"),
    (421, "Yemen"),
    (422, "Oman"),
    (424, "United Arab Emirates"),
    (425, "Israel / Palestine"),
    (426, "Bahrain"),
    (427, "Qatar"),
    (428, "Mongolia"),
    (429, "Nepal"),
    (430, "United Arab Emirates"),
    (431, "United Arab Emirates"),
    (432, "Iran"),
    (434, "Uzbekistan"),
    (436, "Tajikistan"),
    (437, "Kyrgyzstan"),
    (438, "Turkmenistan"),
    (440, "Japan"),
    (441, "Japan"),
    (450, "South Korea"),
    (452, "Vietnam"),
    (454, "Hong Kong"),
    (455, "Macau"),
    (456, "Cambodia"),
    (457, "Laos"),
    (460, "China"),
    (461, "China"),
    (466, "Taiwan"),
    (467, "North Korea"),
    (470, "Bangladesh"),
    (472, "Maldives"),
    (502, "Malaysia"),
    (505, "Australia"),
    (510, "Indonesia"),
    (514, "Timor-Leste"),
    (515, "Philippines"),
    (520, "Thailand"),
    (525, "Singapore"),
    (528, "Brunei"),
    (530, "New Zealand"),
    (536, "Nauru"),
    (537, "Papua New Guinea"),
    (539, "Tonga"),
    (540, "Solomon Islands"),
    (541, "Vanuatu"),
    (542, "Fiji"),
    (543, "Wallis and Futuna"),
    (544, "American Samoa"),
    (545, "Kiribati"),
    (546, "New Caledonia"),
    (547, "French Polynesia"),
    (548, "Cook Islands"),
    (549, "Samoa"),
    (550, "Micronesia"),
    (551, "Marshall Islands"),
    (552, "Palau"),
    (553, "Tuvalu"),
    (555, "Niue"),
    (602, "Egypt"),
    (603, "Algeria"),
    (604, "Morocco"),
    (605, "Tunisia"),
    (606, "Libya"),
    (607, "Gambia"),
    (608, "Senegal"),
    (609, "Mauritania"),
    (610, "Mali"),
    (611, "Guinea"),
    (612, "Côte d'Ivoire"),
    (613, "Burkina Faso"),
    (614, "Niger"),
    (615, "Togo"),
    (616, "Benin"),
    (617, "Mauritius"),
    (618, "Liberia"),
    (619, "Sierra Leone"),
    (620, "Ghana"),
    (621, "Nigeria"),
    (622, "Chad"),
    (623, "Central African Republic"),
    (624, "Cameroon"),
    (625, "Cape Verde"),
    (626, "São Tomé and Príncipe"),
    (627, "Equatorial Guinea"),
    (628, "Gabon"),
    (629, "Congo"),
    (630, "DR Congo"),
    (631, "Angola"),
    (632, "Guinea-Bissau"),
    (633, "Seychelles"),
    (634, "Sudan"),
    (635, "Rwanda"),
    (636, "Ethiopia"),
    (637, "Somalia"),
    (638, "Djibouti"),
    (639, "Kenya"),
    (640, "Tanzania"),
    (641, "Uganda"),
    (642, "Burundi"),
    (643, "Mozambique"),
    (645, "Zambia"),
    (646, "Madagascar"),
    (647, "Réunion"),
    (648, "Zimbabwe"),
    (649, "Namibia"),
    (650, "Malawi"),
    (651, "Lesotho"),
    (652, "Botswana"),
    (653, "Eswatini"),
    (654, "Comoros"),
    (655, "South Africa"),
    (657, "Eritrea"),
    (658, "Saint Helena"),
    (659, "South Sudan"),
    (702, "Belize"),
    (704, "Guatemala"),
    (706, "El Salvador"),
    (708, "Honduras"),
    (710, "Nicaragua"),
    (712, "Costa Rica"),
    (714, "Panama"),
    (716, "Peru"),
    (722, "Argentina"),
    (724, "Brazil"),
    (730, "Chile"),
    (732, "Colombia"),
    (734, "Venezuela"),
    (736, "Bolivia"),
    (738, "Guyana"),
    (740, "Ecuador"),
    (742, "French Guiana"),
    (744, "Paraguay"),
    (746, "Suriname"),
    (748, "Uruguay"),
    (750, "Falkland Islands"),
    (901, "international networks"),
];

/// Large mobile networks: (MCC, MNC as written in the IMSI, operator), sorted by MCC then MNC.
/// Two-digit MNCs are the norm, three-digit ones are used in North America and a few others.
const MNCS: &[(u16, &str, &str)] = &[
    (1, "01", "test network"),
    (204, "04", "Vodafone"),
    (204, "08", "KPN"),
    (204, "16", "Odido"),
    (208, "01", "Orange"),
    (208, "10", "SFR"),
    (208, "15", "Free Mobile"),
    (208, "20", "Bouygues Telecom"),
    (214, "01", "Vodafone"),
    (214, "03", "Orange"),
    (214, "04", "Yoigo"),
    (214, "07", "Movistar"),
    (222, "01", "TIM"),
    (222, "10", "Vodafone"),
    (222, "50", "Iliad"),
    (222, "88", "WindTre"),
    (234, "10", "O2"),
    (234, "15", "Vodafone"),
    (234, "20", "Three"),
    (234, "30", "EE"),
    (234, "33", "EE"),
    (250, "01", "MTS"),
    (250, "02", "MegaFon"),
    (250, "20", "Tele2"),
    (250, "99", "Beeline"),
    (262, "01", "Telekom"),
    (262, "02", "Vodafone"),
    (262, "03", "O2"),
    (262, "07", "O2"),
    (286, "01", "Turkcell"),
    (286, "02", "Vodafone"),
    (286, "03", "Türk Telekom"),
    (302, "220", "Telus"),
    (302, "610", "Bell"),
    (302, "720", "Rogers"),
    (310, "004", "Verizon"),
    (310, "012", "Verizon"),
    (310, "120", "Sprint"),
    (310, "150", "AT&T"),
    (310, "160", "T-Mobile"),
    (310, "260", "T-Mobile"),
    (310, "410", "AT&T"),
    (311, "270", "Verizon"),
    (311, "480", "Verizon"),
    (334, "020", "Telcel"),
    (334, "050", "AT&T"),
    (404, "10", "Airtel"),
    (404, "11", "Vodafone Idea"),
    (404, "20", "Vodafone Idea"),
    (404, "45", "Airtel"),
    (440, "10", "NTT Docomo"),
    (440, "20", "SoftBank"),
    (440, "50", "KDDI"),
    (440, "51", "KDDI"),
    (450, "05", "SK Telecom"),
    (450, "06", "LG U+"),
    (450, "08", "KT"),
    (452, "01", "MobiFone"),
    (452, "02", "Vinaphone"),
    (452, "04", "Viettel"),
    (454, "00", "CSL"),
    (454, "03", "3"),
    (454, "06", "SmarTone"),
    (454, "12", "China Mobile Hong Kong"),
    (460, "00", "China Mobile"),
    (460, "01", "China Unicom"),
    (460, "02", "China Mobile"),
    (460, "03", "China Telecom"),
    (460, "04", "China Mobile"),
    (460, "05", "China Telecom"),
    (460, "06", "China Unicom"),
    (460, "07", "China Mobile"),
    (460, "08", "China Mobile"),
    (460, "09", "China Unicom"),
    (460, "11", "China Telecom"),
    (460, "15", "China Broadnet"),
    (460, "20", "China Tietong"),
    (466, "01", "FarEasTone"),
    (466, "92", "Chunghwa Telecom"),
    (466, "97", "Taiwan Mobile"),
    (505, "01", "Telstra"),
    (505, "02", "Optus"),
    (505, "03", "Vodafone"),
    (510, "01", "Indosat"),
    (510, "10", "Telkomsel"),
    (510, "11", "XL Axiata"),
    (515, "02", "Globe"),
    (515, "03", "Smart"),
    (520, "01", "AIS"),
    (520, "03", "AIS"),
    (520, "04", "TrueMove H"),
    (520, "05", "dtac"),
    (724, "02", "TIM"),
    (724, "03", "TIM"),
    (724, "04", "TIM"),
    (724, "05", "Claro"),
    (724, "06", "Vivo"),
    (724, "10", "Vivo"),
    (724, "11", "Vivo"),
    (724, "31", "Oi"),
];

/// The country or network class of a 3-digit MCC, when it is one in use.
pub(crate) fn mcc_name(mcc: u16) -> Option<&'static str> {
    MCCS.binary_search_by_key(&mcc, |&(code, _)| code)
        .ok()
        .and_then(|i| MCCS.get(i))
        .map(|&(_, name)| name)
}

/// The operator named by the MNC that follows `mcc` in `rest` (the digits after the MCC), trying
/// three-digit then two-digit MNCs; returns the MNC as written and the operator.
pub(crate) fn mnc_operator(mcc: u16, rest: &[u8]) -> Option<(&'static str, &'static str)> {
    MNCS.iter()
        .filter(|&&(code, ..)| code == mcc)
        .filter(|&&(_, mnc, _)| rest.starts_with(mnc.as_bytes()))
        .max_by_key(|&&(_, mnc, _)| mnc.len())
        .map(|&(_, mnc, operator)| (mnc, operator))
}

/// The MCC of a digit string (its first three digits).
pub(crate) fn mcc_of(digits: &[u8]) -> Option<u16> {
    let head = digits.get(..3)?;
    head.iter().try_fold(0u16, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
    })
}

/// True when `digits` (ASCII digits only) pass the Luhn check, check digit last.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum: u32 = 0;
    for (i, &d) in digits.iter().rev().enumerate() {
        if !d.is_ascii_digit() {
            return false;
        }
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(MCCS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(MNCS.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        // Every MNC entry's MCC is in the MCC table.
        assert!(MNCS.iter().all(|(mcc, ..)| mcc_name(*mcc).is_some()));
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid(b"356938035643809"));
        assert!(!luhn_valid(b"356938035643808"));
        // The test profile's ICCID has no valid check digit.
        assert!(!luhn_valid(b"8944101234567890123"));
        assert!(luhn_valid(b"89441012345678901237"));
        assert!(luhn_valid(b"79927398713"));
        assert!(!luhn_valid(b""));
        assert!(!luhn_valid(b"12a4"));
    }

    #[test]
    fn lookups() {
        assert_eq!(mcc_name(234), Some("United Kingdom"));
        assert_eq!(mcc_name(999), None);
        assert_eq!(mnc_operator(234, b"101234567890"), Some(("10", "O2")));
        assert_eq!(
            mnc_operator(310, b"260123456789"),
            Some(("260", "T-Mobile"))
        );
        assert_eq!(mnc_operator(234, b"991234567890"), None);
        assert_eq!(mcc_of(b"23410"), Some(234));
        assert_eq!(mcc_of(b"23"), None);
        assert_eq!(reporting_body(b"35693803"), Some("BABT, UK"));
        assert_eq!(reporting_body(b"12345678"), None);
    }
}
