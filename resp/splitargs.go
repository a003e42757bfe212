package resp

import "errors"

var errUnbalancedQuotes = errors.New("unbalanced quotes")

// SplitArgs splits an inline request the way redis-cli and Redis's inline protocol do
// (sdssplitargs): blanks separate arguments; "double quotes" take \n \r \t \b \a \\ \"
// and \xHH escapes; 'single quotes' take only \'. A closing quote must be followed by a
// blank or the end of the line.
func SplitArgs(line []byte) ([][]byte, error) {
	var args [][]byte
	i := 0
	for {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, nil
		}
		var cur []byte
		inDouble, inSingle := false, false
		for ; ; i++ {
			if inDouble {
				if i >= len(line) {
					return nil, errUnbalancedQuotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isBlank(line[i+1]) {
						return nil, errUnbalancedQuotes
					}
					inDouble = false
					i++
					goto done
				default:
					cur = append(cur, c)
				}
			} else if inSingle {
				if i >= len(line) {
					return nil, errUnbalancedQuotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					cur = append(cur, '\'')
					i++
				case c == '\'':
					if i+1 < len(line) && !isBlank(line[i+1]) {
						return nil, errUnbalancedQuotes
					}
					inSingle = false
					i++
					goto done
				default:
					cur = append(cur, c)
				}
			} else {
				if i >= len(line) {
					goto done
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					goto done
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
			}
		}
	done:
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
