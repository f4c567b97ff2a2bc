package dev.transferengine.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code transfer-bom} manages exactly the modules that are published: every module of the root pom, less
 * the BOM itself and those that set {@code skipPublishing} (docs/releasing.md), each at the project version.
 * A module added to the build without a BOM entry, or a BOM entry for a module that is gone, fails here.
 */
class BomCoversPublishedModulesTest {
    private static final Path ROOT = Path.of("..");

    @Test
    void bomManagesEveryPublishedModuleAtTheProjectVersion() throws Exception {
        Set<String> published = new TreeSet<>();
        for (String module : childTexts(read(ROOT.resolve("pom.xml")).getDocumentElement(), "modules", "module")) {
            Element pom = read(ROOT.resolve(module).resolve("pom.xml")).getDocumentElement();
            String artifactId = childText(pom, "artifactId");
            boolean skipped = "true".equals(childText(child(pom, "properties"), "skipPublishing"));
            if (!skipped && !artifactId.equals("transfer-bom")) {
                published.add(artifactId);
            }
        }
        assertTrue(published.containsAll(List.of("transfer-api", "transfer-core", "transfer-efa", "transfer-verbs")),
                published::toString);

        Element bom = read(ROOT.resolve("transfer-bom/pom.xml")).getDocumentElement();
        Set<String> managed = new TreeSet<>();
        NodeList deps = child(child(bom, "dependencyManagement"), "dependencies").getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element dep = (Element) deps.item(i);
            String id = childText(dep, "artifactId");
            assertEquals("dev.transferengine", childText(dep, "groupId"), id);
            assertEquals("${project.version}", childText(dep, "version"), id);
            managed.add(id);
        }
        assertEquals(published, managed, "transfer-bom's dependencyManagement against the published modules");
    }

    private static Document read(Path pom) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
    }

    /** The direct child element {@code name} of {@code parent}, or null (also when parent is null). */
    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String childText(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }

    private static List<String> childTexts(Element parent, String listName, String itemName) {
        List<String> out = new ArrayList<>();
        Element list = child(parent, listName);
        for (Node n = list.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(itemName)) {
                out.add(e.getTextContent().trim());
            }
        }
        return out;
    }
}
