//! THREAD (RFC 5256 §2.2): ORDEREDSUBJECT and REFERENCES, over messages given by their
//! sequence index, with no I/O. Threads are kept in an arena and walked with explicit stacks:
//! a chain of thousands of replies neither recurses nor deepens the output's nesting.

use std::collections::HashMap;

/// What threading needs of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadMessage {
    /// Index in the view (sequence number - 1).
    pub index: usize,
    pub message_id: Option<String>,
    /// The References msg-ids, oldest first; the first In-Reply-To one when there are none.
    pub references: Vec<String>,
    /// Sent date, UTC seconds (the internal date when the Date: field is unusable).
    pub sent: i64,
    /// Base subject, case-folded.
    pub subject: Vec<u8>,
    /// The subject marked a reply or forward.
    pub reply: bool,
}

/// A set of threads: nodes hold a message (its position in the input) or are dummies.
#[derive(Debug, Default)]
pub struct Forest {
    nodes: Vec<Node>,
    roots: Vec<usize>,
}

#[derive(Debug, Default, Clone)]
struct Node {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

impl Forest {
    fn add(&mut self, message: Option<usize>) -> usize {
        self.nodes.push(Node {
            message,
            ..Node::default()
        });
        self.nodes.len() - 1
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.nodes[child].parent.take() {
            self.nodes[parent].children.retain(|&c| c != child);
        }
    }

    /// Whether `node` is `ancestor` or below it.
    fn within(&self, mut node: usize, ancestor: usize) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// Nodes below `roots`, each after its children (post-order), iteratively.
    fn post_order(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<(usize, bool)> = self.roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                order.push(node);
            } else {
                stack.push((node, true));
                stack.extend(self.nodes[node].children.iter().rev().map(|&c| (c, false)));
            }
        }
        order
    }

    /// The message whose date and position stand for `node`: its own, or a dummy's first
    /// child's (children sorted first).
    fn first_message(&self, mut node: usize) -> Option<usize> {
        loop {
            if let Some(message) = self.nodes[node].message {
                return Some(message);
            }
            node = *self.nodes[node].children.first()?;
        }
    }

    /// Every set of siblings, then the roots, by sent date, ties by sequence number.
    fn sort_by_date(&mut self, messages: &[ThreadMessage]) {
        let key = |forest: &Forest, node: usize| {
            forest
                .first_message(node)
                .map(|m| (messages[m].sent, messages[m].index))
        };
        for node in self.post_order() {
            let mut children = std::mem::take(&mut self.nodes[node].children);
            children.sort_by_key(|&c| key(self, c));
            self.nodes[node].children = children;
        }
        let mut roots = std::mem::take(&mut self.roots);
        roots.sort_by_key(|&r| key(self, r));
        self.roots = roots;
    }

    /// The THREAD response's data: `(1 2 (3)(4 5))(6)…`, with `number` giving each message's
    /// sequence number or UID.
    pub fn encode(&self, messages: &[ThreadMessage], number: impl Fn(usize) -> u32) -> Vec<u8> {
        let mut out = Vec::new();
        // Each step: open a thread-list at a node, or close one.
        enum Step {
            Open(usize),
            Close,
        }
        let mut stack: Vec<Step> = self.roots.iter().rev().map(|&r| Step::Open(r)).collect();
        while let Some(step) = stack.pop() {
            let Step::Open(mut node) = step else {
                out.push(b')');
                continue;
            };
            out.push(b'(');
            stack.push(Step::Close);
            let mut first = true;
            // A chain of single replies is written flat: "1 2 3".
            while let Some(message) = self.nodes[node].message {
                if !first {
                    out.push(b' ');
                }
                first = false;
                out.extend_from_slice(number(messages[message].index).to_string().as_bytes());
                match self.nodes[node].children.as_slice() {
                    [only] => node = *only,
                    _ => break,
                }
            }
            let children = &self.nodes[node].children;
            if !children.is_empty() && self.nodes[node].message.is_some() {
                out.push(b' ');
            }
            if children.len() == 1 {
                // Only a dummy reaches here with one child (a root kept for its subject).
                stack.push(Step::Open(children[0]));
            } else {
                stack.extend(children.iter().rev().map(|&c| Step::Open(c)));
            }
        }
        out
    }
}

/// ORDEREDSUBJECT: messages grouped by base subject, each group a thread whose first message
/// (by sent date) is the parent of the others; threads in the order of their first message.
pub fn ordered_subject(messages: &[ThreadMessage]) -> Forest {
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&messages[a], &messages[b]);
        (&a.subject, a.sent, a.index).cmp(&(&b.subject, b.sent, b.index))
    });
    let mut forest = Forest::default();
    let mut current: Option<(usize, &[u8])> = None;
    for m in order {
        let node = forest.add(Some(m));
        match current {
            Some((parent, subject)) if subject == messages[m].subject.as_slice() => {
                forest.link(parent, node);
            }
            _ => {
                forest.roots.push(node);
                current = Some((node, &messages[m].subject));
            }
        }
    }
    forest.sort_by_date(messages);
    forest
}

/// REFERENCES (RFC 5256 §2.2, after Zawinski): links by Message-ID and References, dummies
/// pruned, roots grouped by base subject, siblings by sent date.
pub fn references(messages: &[ThreadMessage]) -> Forest {
    let mut forest = Forest::default();
    link_by_references(&mut forest, messages);
    forest.roots = (0..forest.nodes.len())
        .filter(|&n| forest.nodes[n].parent.is_none())
        .collect();
    prune_dummies(&mut forest);
    forest.sort_by_date(messages);
    group_by_subject(&mut forest, messages);
    forest.sort_by_date(messages);
    forest
}

/// Steps 1A-1C: one node per message-id (a duplicate or missing one gets a node of its own),
/// parent/child links along each References list, never making a loop.
fn link_by_references(forest: &mut Forest, messages: &[ThreadMessage]) {
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (m, message) in messages.iter().enumerate() {
        let own = match message.message_id.as_deref() {
            Some(id) => match by_id.get(id) {
                Some(&node) if forest.nodes[node].message.is_none() => {
                    forest.nodes[node].message = Some(m);
                    node
                }
                Some(_) => forest.add(Some(m)),
                None => {
                    let node = forest.add(Some(m));
                    by_id.insert(id, node);
                    node
                }
            },
            None => forest.add(Some(m)),
        };
        let mut previous: Option<usize> = None;
        for id in &message.references {
            let node = match by_id.get(id.as_str()) {
                Some(&node) => node,
                None => {
                    let node = forest.add(None);
                    by_id.insert(id, node);
                    node
                }
            };
            if let Some(parent) = previous
                && forest.nodes[node].parent.is_none()
                && !forest.within(parent, node)
            {
                forest.link(parent, node);
            }
            previous = Some(node);
        }
        // The message's own References decide its parent over links others implied.
        let parent = previous.filter(|&p| !forest.within(p, own));
        forest.unlink(own);
        if let Some(parent) = parent {
            forest.link(parent, own);
        }
    }
}

/// Step 3: dummies without children go; below the roots a dummy is replaced by its children;
/// a dummy root stays only to hold several children together.
fn prune_dummies(forest: &mut Forest) {
    for node in forest.post_order() {
        let children = std::mem::take(&mut forest.nodes[node].children);
        let mut kept = Vec::with_capacity(children.len());
        for child in children {
            if forest.nodes[child].message.is_some() {
                kept.push(child);
                continue;
            }
            for grandchild in std::mem::take(&mut forest.nodes[child].children) {
                forest.nodes[grandchild].parent = Some(node);
                kept.push(grandchild);
            }
        }
        forest.nodes[node].children = kept;
    }
    let roots = std::mem::take(&mut forest.roots);
    for root in roots {
        if forest.nodes[root].message.is_some() {
            forest.roots.push(root);
            continue;
        }
        match forest.nodes[root].children.as_slice() {
            [] => {}
            [only] => {
                let only = *only;
                forest.nodes[root].children.clear();
                forest.nodes[only].parent = None;
                forest.roots.push(only);
            }
            _ => forest.roots.push(root),
        }
    }
}

/// Step 5: roots with the same base subject gathered under one thread.
fn group_by_subject(forest: &mut Forest, messages: &[ThreadMessage]) {
    let subject_of = |forest: &Forest, node: usize| {
        forest
            .first_message(node)
            .map(|m| (&messages[m].subject, messages[m].reply))
            .filter(|(subject, _)| !subject.is_empty())
    };
    let is_dummy = |forest: &Forest, node: usize| forest.nodes[node].message.is_none();
    let mut table: HashMap<&[u8], usize> = HashMap::new();
    for &root in &forest.roots {
        let Some((subject, reply)) = subject_of(forest, root) else {
            continue;
        };
        match table.get(subject.as_slice()) {
            None => {
                table.insert(subject, root);
            }
            Some(&old) => {
                let old_reply = subject_of(forest, old).is_some_and(|(_, r)| r);
                if (is_dummy(forest, root) && !is_dummy(forest, old)) || (old_reply && !reply) {
                    table.insert(subject, root);
                }
            }
        }
    }
    let roots = forest.roots.clone();
    // Where each root stands in the new root list, which merged roots leave.
    let mut position: HashMap<usize, usize> = HashMap::new();
    let mut kept: Vec<Option<usize>> = Vec::with_capacity(roots.len());
    for &root in &roots {
        position.insert(root, kept.len());
        kept.push(Some(root));
    }
    for root in roots {
        let Some((subject, reply)) = subject_of(forest, root) else {
            continue;
        };
        let Some(&old) = table.get(subject.as_slice()) else {
            continue;
        };
        if old == root {
            continue;
        }
        let old_reply = subject_of(forest, old).is_some_and(|(_, r)| r);
        let (old_dummy, root_dummy) = (is_dummy(forest, old), is_dummy(forest, root));
        if old_dummy && root_dummy {
            for child in std::mem::take(&mut forest.nodes[root].children) {
                forest.link(old, child);
            }
        } else if old_dummy || (!old_reply && reply) {
            forest.link(old, root);
        } else if root_dummy {
            // The table prefers dummies, so this only comes from a later replacement: the
            // real message joins the dummy, which takes its place.
            forest.link(root, old);
            if let Some(&at) = position.get(&old) {
                kept[at] = Some(root);
            }
            table.insert(subject, root);
        } else {
            let dummy = forest.add(None);
            forest.link(dummy, old);
            forest.link(dummy, root);
            if let Some(&at) = position.get(&old) {
                kept[at] = Some(dummy);
                position.insert(dummy, at);
            }
            table.insert(subject, dummy);
        }
        if let Some(&at) = position.get(&root)
            && kept[at] == Some(root)
        {
            kept[at] = None;
        }
    }
    forest.roots = kept.into_iter().flatten().collect();
}
