"""Write a C++ source defining ShippedIndexTemplate() from the index template JSON file.

Usage: embed_json.py INPUT.json OUTPUT.cc
"""

import sys

DELIMITER = "json"


def main():
    source, output = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        text = f.read()
    if ")" + DELIMITER + '"' in text:
        sys.exit(f"{source} contains the raw string delimiter ){DELIMITER}\"")
    with open(output, "w", encoding="utf-8") as out:
        out.write("// Generated from elasticsearch-template.json by embed_json.py.\n")
        out.write('#include "ctrlplane/sinks/elasticsearch_template.h"\n\n')
        out.write("namespace sensor::ctl {\n\n")
        out.write("std::string_view ShippedIndexTemplate() {\n")
        out.write(f'  return R"{DELIMITER}({text}){DELIMITER}";\n')
        out.write("}\n\n")
        out.write("}  // namespace sensor::ctl\n")


if __name__ == "__main__":
    main()
