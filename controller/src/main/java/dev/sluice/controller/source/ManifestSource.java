package dev.sluice.controller.source;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.sluice.controller.translate.ClusterState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Standalone mode's source of objects: manifest files and directories ({@code --manifests}),
 * watched for changes.
 *
 * <p>Directories are read recursively for {@code *.yaml}, {@code *.yml} and {@code *.json};
 * explicitly named files are read whatever their extension. Names starting with {@code .} are
 * skipped (editor files, and the {@code ..data} links of a mounted ConfigMap, whose visible
 * files are read through their symbolic links). Files are ordered by the order of the paths
 * given, then by their path relative to it; objects without {@code creationTimestamp} are older
 * than everything after them in that order (see {@link ParsedManifest#toClusterState(List)}).
 *
 * <p>A file that does not parse is reported ({@code file:line: message}, logged as a warning and
 * listed by {@link #fileProblems()}) and keeps its last good content, or contributes nothing if it
 * never parsed; the other files are unaffected. Deleted files drop their objects.
 *
 * <p>One daemon thread watches every directory (new subdirectories included) and the parent
 * directory of every named file with a {@link WatchService}; a burst of events is collected until
 * the files have been quiet for {@value #QUIET_MILLIS} ms (at most {@value #BURST_MILLIS} ms), then
 * the changed files are reloaded and {@code onChange} runs. Because a
 * WatchService can miss events on some file systems, modification times and sizes are also
 * polled every second.
 */
public final class ManifestSource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ManifestSource.class);

    private static final long POLL_MILLIS = 1000;
    /**
     * A save is often several events (truncate, write, rename) microseconds apart; a pause this
     * long ends it. Short, because it is on the path of every change to traffic (with endpoint
     * changes refreshed in a few milliseconds it was a third of that path at 20 ms). A writer
     * slower than this is read twice: a half-written file that does not parse keeps its last good
     * content until the next event reads it whole.
     */
    private static final long QUIET_MILLIS = 10;
    /** A file written for longer than this is read anyway (and again at its next event). */
    private static final long BURST_MILLIS = 500;

    /** A file's place in the global order: the root it came from, then its relative path. */
    private record FileKey(int root, String relative) {}

    private static final Comparator<FileKey> ORDER =
            Comparator.comparingInt(FileKey::root).thenComparing(FileKey::relative);

    /** What is known about one file: its last stat, last content, last good parse, problem. */
    private record FileState(long modified, long size, String content, ParsedManifest good, String problem) {}

    private final List<Path> roots;
    private final Runnable onChange;

    // owned by the thread that runs scan(): the caller of start() until the watcher starts
    private final TreeMap<FileKey, FileState> files = new TreeMap<>(ORDER);
    private final Map<Path, WatchKey> watched = new HashMap<>();
    private final Set<String> missingRoots = new HashSet<>();
    /** The timestamped objects of the last snapshot, by file ({@link ParsedManifest.Stamped}). */
    private final ParsedManifest.Stamped copies = new ParsedManifest.Stamped();
    private WatchService watcher;
    private Thread thread;

    private volatile boolean running;
    private volatile ClusterState snapshot = ClusterState.EMPTY;
    private volatile List<String> problems = List.of();

    /**
     * @param paths    files or directories, in the order that decides object age
     * @param onChange called on the watcher thread after the objects changed
     */
    public ManifestSource(List<Path> paths, Runnable onChange) {
        this.roots = List.copyOf(paths);
        this.onChange = Objects.requireNonNull(onChange, "onChange");
    }

    /**
     * Loads every file synchronously (files that do not parse are reported, not fatal), then
     * starts watching.
     *
     * @throws IOException if the file system cannot be watched at all
     */
    public void start() throws IOException {
        watcher = roots.isEmpty() ? null : roots.get(0).getFileSystem().newWatchService();
        running = true;
        scan(Set.of());
        if (watcher == null) {
            return;
        }
        thread = new Thread(this::watch, "sluice-manifests");
        thread.setDaemon(true);
        thread.start();
    }

    /** The objects of all files now (immutable; safe from any thread). */
    public ClusterState snapshot() {
        return snapshot;
    }

    /** The current parse problems, {@code file:line: message}, in file order. */
    public List<String> fileProblems() {
        return problems;
    }

    @Override
    public void close() {
        running = false;
        if (watcher != null) {
            try {
                watcher.close();
            } catch (IOException e) {
                log.debug("closing the watch service failed", e);
            }
        }
        if (thread != null && thread != Thread.currentThread()) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void watch() {
        while (running) {
            try {
                Set<Path> touched = new HashSet<>();
                WatchKey key = watcher.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    collect(key, touched);
                    // a save is often several events (truncate, write, rename): wait for the burst to end
                    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BURST_MILLIS);
                    WatchKey more;
                    while (System.nanoTime() < end
                            && (more = watcher.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS)) != null) {
                        collect(more, touched);
                    }
                }
                if (scan(touched)) {
                    onChange.run();
                }
            } catch (ClosedWatchServiceException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("manifest watcher failed; retrying", e);
            }
        }
    }

    private void collect(WatchKey key, Set<Path> touched) {
        Object dir = key.watchable();
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() != OVERFLOW && event.context() instanceof Path name && dir instanceof Path d) {
                touched.add(d.resolve(name));
            }
        }
        if (!key.reset() && dir instanceof Path d) {
            watched.remove(d); // the directory is gone; registered again if it comes back
        }
    }

    /**
     * Brings the file states up to date: new and changed files are read (and files named in
     * {@code touched} re-read even when their size and time look unchanged), deleted ones
     * dropped. Publishes a new snapshot and returns {@code true} when anything changed.
     */
    private boolean scan(Set<Path> touched) {
        TreeMap<FileKey, Path> current = new TreeMap<>(ORDER);
        List<String> rootProblems = new ArrayList<>();
        for (int i = 0; i < roots.size(); i++) {
            Path root = roots.get(i);
            if (Files.isDirectory(root)) {
                missingRoots.remove(root.toString());
                listDirectory(i, root, current);
            } else if (Files.exists(root)) {
                missingRoots.remove(root.toString());
                current.put(new FileKey(i, root.getFileName().toString()), root);
                Path parent = root.toAbsolutePath().getParent();
                if (parent != null) {
                    register(parent);
                }
            } else {
                if (missingRoots.add(root.toString())) {
                    log.warn("{}: not found (will be read when it appears)", root);
                }
                rootProblems.add(root + ": not found");
                Path parent = root.toAbsolutePath().getParent();
                if (parent != null && Files.isDirectory(parent)) {
                    register(parent);
                }
            }
        }

        boolean changed = files.keySet().retainAll(current.keySet());
        for (Map.Entry<FileKey, Path> e : current.entrySet()) {
            changed |= refresh(e.getKey(), e.getValue(), touched);
        }
        List<String> newProblems = new ArrayList<>(rootProblems);
        for (FileState s : files.values()) {
            if (s.problem() != null) {
                newProblems.add(s.problem());
            }
        }
        if (!newProblems.equals(problems)) {
            problems = List.copyOf(newProblems);
        }
        if (changed) {
            List<ParsedManifest> good = new ArrayList<>();
            for (FileState s : files.values()) {
                if (s.good() != null) {
                    good.add(s.good());
                }
            }
            snapshot = ParsedManifest.toClusterState(good, copies);
        }
        return changed;
    }

    /** Re-reads one file if needed; returns whether its good content changed. */
    private boolean refresh(FileKey key, Path path, Set<Path> touched) {
        FileState old = files.get(key);
        long modified;
        long size;
        try {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
            modified = attrs.lastModifiedTime().toMillis();
            size = attrs.size();
        } catch (IOException e) {
            return false; // vanished between listing and reading: the next scan drops it
        }
        boolean forced = touched.contains(path) || touched.contains(path.toAbsolutePath());
        if (old != null && !forced && old.modified() == modified && old.size() == size) {
            return false;
        }
        String content;
        try {
            content = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
        } catch (IOException e) {
            String problem = path + ": cannot read: " + e.getMessage();
            files.put(key, new FileState(modified, size, null, old == null ? null : old.good(), problem));
            return false;
        }
        if (old != null && content.equals(old.content())) {
            files.put(key, new FileState(modified, size, content, old.good(), old.problem()));
            return false;
        }
        try {
            ParsedManifest parsed = ManifestParser.parse(path.toString(), content);
            if (old != null && old.problem() != null) {
                log.info("{}: parses again", path);
            }
            files.put(key, new FileState(modified, size, content, parsed, null));
            log.debug("{}: {} objects loaded", path, parsed.objects().size());
            return true;
        } catch (ManifestException e) {
            ParsedManifest lastGood = old == null ? null : old.good();
            log.warn("{} ({})", e.getMessage(), lastGood != null ? "the file's last good content stays in effect"
                    : "the file contributes nothing until it parses");
            files.put(key, new FileState(modified, size, content, lastGood, e.getMessage()));
            return false;
        }
    }

    private void listDirectory(int rootIndex, Path root, Map<FileKey, Path> out) {
        try {
            Files.walkFileTree(root, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                            if (!dir.equals(root) && hidden(dir)) {
                                return FileVisitResult.SKIP_SUBTREE;
                            }
                            register(dir);
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                            if (attrs.isRegularFile() && !hidden(file) && manifestName(file)) {
                                String relative = String.join("/", Arrays.stream(root.relativize(file).toString()
                                        .split(java.util.regex.Pattern.quote(file.getFileSystem().getSeparator())))
                                        .toList());
                                out.put(new FileKey(rootIndex, relative), file);
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            log.debug("{}: skipped ({})", file, e.toString());
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            log.warn("{}: cannot list: {}", root, e.toString());
        }
    }

    private void register(Path dir) {
        if (watcher == null || watched.containsKey(dir)) {
            return;
        }
        try {
            watched.put(dir, dir.register(watcher, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE));
        } catch (IOException | ClosedWatchServiceException e) {
            log.debug("{}: cannot watch ({}); relying on polling", dir, e.toString());
        }
    }

    private static boolean hidden(Path p) {
        Path name = p.getFileName();
        return name != null && name.toString().startsWith(".");
    }

    private static boolean manifestName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
    }
}
