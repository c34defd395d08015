"""Reading the app's tagged PDFs back (pypdf): what the structure tree holds."""


def structure_kinds(root) -> set[str]:
    """The structure types (/H1, /Table, /TD, …) in the tagged PDF whose document catalogue is `root`
    (`reader.trailer["/Root"]`), read from its structure tree to a depth of 40."""
    kinds = set()

    def walk(element, depth=0):
        if depth > 40 or not hasattr(element, "get"):
            return
        if "/S" in element:
            kinds.add(str(element["/S"]))
        children = element.get("/K")
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child.get_object() if hasattr(child, "get_object") else child, depth + 1)

    walk(root["/StructTreeRoot"].get_object())
    return kinds
