//! Connection limits: a cap per listener, a global cap of which the last `mta_reserve` slots
//! only the MTA port (25) may take, and a cap per client (an IPv4 address or an IPv6 /64).
//! Thousands of idle IMAP connections must not make port 25 answer 421: mail between
//! operators goes on whatever the users' clients do.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::protocol::Protocol;

/// The caps, as configured (`[limits]`).
#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub max_total: usize,
    pub max_per_ip: usize,
    /// Slots of `max_total` that only the MTA listener may use.
    pub mta_reserve: usize,
    pub per_listener: HashMap<&'static str, usize>,
}

#[derive(Debug)]
pub struct ConnectionLimits {
    /// Replaced by a configuration reload; connections already open keep their slots.
    settings: std::sync::RwLock<LimitSettings>,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_listener: HashMap<&'static str, usize>,
    per_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Total,
    Listener,
    PerIp,
}

/// Holds one slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    limits: Arc<ConnectionLimits>,
    listener: &'static str,
    source: IpAddr,
}

impl ConnectionLimits {
    pub fn new(settings: LimitSettings) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            settings: std::sync::RwLock::new(settings),
            open: Mutex::new(Counts::default()),
        })
    }

    /// New caps from a reload. Connections over a lowered cap stay open; new ones wait
    /// until the count is under it.
    pub fn replace(&self, settings: LimitSettings) {
        *self
            .settings
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = settings;
    }

    pub fn try_acquire(
        self: &Arc<Self>,
        protocol: Protocol,
        ip: IpAddr,
    ) -> Result<Permit, Refusal> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let settings = self
            .settings
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let listener = protocol.name();
        let reserve = match protocol {
            Protocol::Smtp => 0,
            _ => settings.mta_reserve,
        };
        if open.total >= settings.max_total.saturating_sub(reserve) {
            return Err(Refusal::Total);
        }
        let cap = settings
            .per_listener
            .get(listener)
            .copied()
            .unwrap_or(settings.max_total);
        if open.per_listener.get(listener).copied().unwrap_or(0) >= cap {
            return Err(Refusal::Listener);
        }
        let source = mssd_core::client_source(ip);
        if open.per_ip.get(&source).copied().unwrap_or(0) >= settings.max_per_ip {
            return Err(Refusal::PerIp);
        }
        *open.per_ip.entry(source).or_insert(0) += 1;
        *open.per_listener.entry(listener).or_insert(0) += 1;
        open.total += 1;
        Ok(Permit {
            limits: Arc::clone(self),
            listener,
            source,
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self
            .limits
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_listener.get_mut(self.listener) {
            *n = n.saturating_sub(1);
        }
        if let Some(n) = open.per_ip.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_ip: usize, reserve: usize, imap: usize) -> Arc<ConnectionLimits> {
        ConnectionLimits::new(LimitSettings {
            max_total: total,
            max_per_ip: per_ip,
            mta_reserve: reserve,
            per_listener: HashMap::from([("imap", imap)]),
        })
    }

    #[test]
    fn per_ip_and_total_caps_and_release() {
        let limits = limits(3, 2, 0, 10);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = limits.try_acquire(Protocol::Smtp, a).unwrap();
        let _a2 = limits.try_acquire(Protocol::Smtp, a).unwrap();
        assert_eq!(
            limits.try_acquire(Protocol::Smtp, a).unwrap_err(),
            Refusal::PerIp
        );
        let _b1 = limits.try_acquire(Protocol::Smtp, b).unwrap();
        assert_eq!(
            limits.try_acquire(Protocol::Smtp, b).unwrap_err(),
            Refusal::Total
        );
        drop(a1);
        assert!(limits.try_acquire(Protocol::Smtp, a).is_ok());
    }

    /// IMAP fills its own cap; the global slots left, and the reserve, stay for port 25.
    #[test]
    fn a_full_imap_listener_leaves_port_25_open() {
        let limits = limits(10, 100, 3, 5);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let imap: Vec<Permit> = (0..5)
            .map(|_| limits.try_acquire(Protocol::Imap, ip).unwrap())
            .collect();
        assert_eq!(
            limits.try_acquire(Protocol::Imap, ip).unwrap_err(),
            Refusal::Listener
        );
        // Submission may take the rest but the reserve.
        let submission: Vec<Permit> = (0..2)
            .map(|_| limits.try_acquire(Protocol::Submission, ip).unwrap())
            .collect();
        assert_eq!(
            limits.try_acquire(Protocol::Submission, ip).unwrap_err(),
            Refusal::Total
        );
        let mta: Vec<Permit> = (0..3)
            .map(|_| limits.try_acquire(Protocol::Smtp, ip).unwrap())
            .collect();
        assert_eq!(
            limits.try_acquire(Protocol::Smtp, ip).unwrap_err(),
            Refusal::Total
        );
        drop((imap, submission, mta));
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let limits = limits(100, 2, 0, 100);
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let second: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let _a = limits.try_acquire(Protocol::Imap, first).unwrap();
        let _b = limits.try_acquire(Protocol::Imap, second).unwrap();
        assert_eq!(
            limits.try_acquire(Protocol::Imap, first).unwrap_err(),
            Refusal::PerIp
        );
        assert!(limits.try_acquire(Protocol::Imap, other).is_ok());
    }
}
