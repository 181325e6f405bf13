//! Folding text for name searches: lower case, accents removed, punctuation as single spaces,
//! so "Hélène D'Artois-Lévy" matches the query "helene d artois".

/// The folded form of `text`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true; // no leading space
    for c in text.chars() {
        let folded = fold_char(c);
        if folded.is_empty() {
            if !space {
                out.push(' ');
                space = true;
            }
        } else {
            out.push_str(folded);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The folded letters of `c`; empty for separators.
fn fold_char(c: char) -> &'static str {
    const ASCII: [&str; 128] = {
        let mut table = [""; 128];
        let lower = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
            "r", "s", "t", "u", "v", "w", "x", "y", "z",
        ];
        let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        let mut i = 0;
        while i < 26 {
            table[b'a' as usize + i] = lower[i];
            table[b'A' as usize + i] = lower[i];
            i += 1;
        }
        let mut d = 0;
        while d < 10 {
            table[b'0' as usize + d] = digits[d];
            d += 1;
        }
        table
    };
    if c.is_ascii() {
        return ASCII[c as usize];
    }
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        // Other letters are kept out of the key rather than guessed.
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds() {
        let cases = [
            ("Hélène D'Artois-Lévy", "helene d artois levy"),
            ("  DUPONT  ", "dupont"),
            ("Œuvre Cœur", "oeuvre coeur"),
            ("CHU de Saint-Étienne", "chu de saint etienne"),
            ("l’hôpital", "l hopital"),
            ("", ""),
            ("---", ""),
            ("12 rue", "12 rue"),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), expected, "{input}");
        }
    }
}
