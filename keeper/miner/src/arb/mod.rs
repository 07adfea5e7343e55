//! `tao20 miner create`: the creation-unit arbitrageur.
//!
//! Each finalized block it observes the fund's NAV (official prices, the keepers' library) and the
//! TAO20 pool's price ([`crate::observe`]). Above `+threshold` it sizes a creation
//! ([`crate::sizing::size_creation`]) and carries it out: `requestCreation` with the bond and a
//! `minSharesOut` of its own valuation less the slippage, the basket bought with `add_stake` (one
//! `batch_all`), the delivery (one `batch_all` with the request's remark, inside the delivery
//! window), the request followed to Minted or Refunded, `claimBond`, the shares sold into the pool,
//! and alpha left over sold back. Below `-threshold` it buys shares from the pool, redeems them in
//! kind and unstakes the alpha. One operation at a time.
//!
//! Every step is persisted before it acts ([`crate::store`]): EVM transactions are recorded signed,
//! before they are broadcast; the delivery intent is recorded before the extrinsic is submitted and
//! a delivery is submitted again only when the first is proven absent from the chain for
//! `inflight_blocks` blocks, so a restarted miner never delivers twice for one request; purchases
//! and sales made just before a crash are found again in the blocks (`block_extrinsics`). Profit and
//! loss of each operation, in TAO: what came back (shares sold, alpha sold back, native TAO of a
//! redemption) minus what went in (TAO spent on alpha, shares bought, alpha already held valued at
//! the spot price) minus EVM gas, minus the bond when it is lost. Substrate transaction fees are not
//! counted (the simulator charges none).

mod decide;
mod op;

pub use op::{CreateOp, Landed, Operation, Paid, Pnl, RedeemOp, Snapshot, StakeMove, TxRecord};

use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{SolCall, SolEvent};
use tao20_bevm::bindings::TAO20;
use tao20_bevm::events::{decode_log, ContractEvent};
use tao20_bevm::reader::RequestStatus;
use tao20_bevm::{Deployment, Reader};
use tao20_chain::types::{AccountId, Bytes32, Call, Event, TransferStake};
use tao20_chain::Subtensor;
use tao20_creation::ids::{delivery_remark, request_id};
use tao20_creation::nav::WEI_PER_RAO;

use crate::config::{format_tao, Amounts, MinerConfig};
use crate::evm::{EvmAccount, TxOutcome, TxState};
use crate::market::{self, MarketAddresses};
use crate::observe::{observe, Observation, PriceHistory};
use crate::sizing::{
    self, amount_out, less_slippage, AssetQuote, CreationInputs, PositionQuote, RedemptionInputs,
};
use crate::store::Store;
use crate::{crash, Error, Result};
use decide::{ceil_rao, floor_rao, Absent};
use op::last_tx_block;

const TARGET: &str = "miner::create";

/// What a step achieved.
enum Progress {
    /// Go on with the next step now.
    Continue,
    /// Wait for the next block.
    Wait,
}

/// What driving a transaction achieved.
enum TxProgress {
    /// Mined successfully.
    Done(Box<(TxOutcome, TransactionReceipt)>),
    /// Mined but reverted (or never minable).
    Failed,
    /// Broadcast, not mined yet.
    Wait,
}

/// The creation miner.
pub struct Arbitrageur<S> {
    cfg: MinerConfig,
    amounts: Amounts,
    sub: S,
    coldkey: AccountId,
    hotkey: AccountId,
    reader: Reader,
    deployment: Deployment,
    evm: EvmAccount,
    market: MarketAddresses,
    store: Store,
    history: PriceHistory,
    min_stake_rao: u64,
    last_block: u64,
    cooldown_until: u64,
}

impl<S> std::fmt::Debug for Arbitrageur<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arbitrageur")
            .field("coldkey", &self.coldkey)
            .field("evm", &self.evm.address())
            .finish_non_exhaustive()
    }
}

impl<S: Subtensor> Arbitrageur<S> {
    /// A miner over `sub` (signing as the coldkey), staking under `hotkey`, trading as `evm`.
    pub async fn new(
        cfg: MinerConfig,
        sub: S,
        hotkey: AccountId,
        evm: EvmAccount,
        store: Store,
    ) -> Result<Self> {
        let coldkey = sub
            .signer()
            .ok_or_else(|| Error::Key("the subtensor client has no coldkey".into()))?;
        let deployment = Deployment::load(&cfg.bevm.deployment)?;
        let reader = Reader::new(evm.provider().clone(), &deployment);
        let router = market::UniswapV2Router02::new(cfg.market.router, evm.provider().clone());
        let wtao = router
            .WETH()
            .call()
            .await
            .map_err(|e| Error::rpc("router WETH()", e))?;
        let factory = router
            .factory()
            .call()
            .await
            .map_err(|e| Error::rpc("router factory()", e))?;
        let tao20 = TAO20::new(deployment.tao20, evm.provider().clone());
        let min_stake_rao = tao20
            .minStakeRao()
            .call()
            .await
            .map_err(|e| Error::rpc("minStakeRao()", e))?;
        store.bind_identity(&format!(
            "chain {} fund {} coldkey {coldkey} evm {}",
            deployment.chain_id,
            deployment.tao20,
            evm.address()
        ))?;
        let amounts = cfg.strategy.amounts()?;
        // After a restart, as after an operation: no decision before its last sale is final.
        let cooldown_until = store
            .ops()?
            .last()
            .and_then(|s| serde_json::from_value::<Operation>(s.record.clone()).ok())
            .map_or(0, |op| op.last_block() + cfg.strategy.cooldown_blocks);
        Ok(Self {
            history: PriceHistory::new(cfg.strategy.price_window),
            amounts,
            market: MarketAddresses {
                factory,
                router: cfg.market.router,
                pair: cfg.market.pair,
                wtao,
            },
            cfg,
            sub,
            coldkey,
            hotkey,
            reader,
            deployment,
            evm,
            store,
            min_stake_rao,
            last_block: 0,
            cooldown_until,
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs until `stop` turns true.
    pub async fn run(&mut self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        let poll = Duration::from_millis(self.cfg.engine.poll_ms.max(10));
        tracing::info!(target: TARGET, coldkey = %self.coldkey, hotkey = %self.hotkey,
            evm = %self.evm.address(), pair = %self.market.pair, "creation miner running");
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(target: TARGET, error = %e, "step failed; retrying next block");
            }
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One round: the open operation's next steps, or a decision at a new block.
    pub async fn tick(&mut self) -> Result<()> {
        let sub_head = self.sub.finalized_head().await?.number;
        let evm_head = self.reader.head().await?;
        let head = sub_head.min(evm_head);
        if let Some(stored) = self.store.open_op()? {
            let mut op: Operation = serde_json::from_value(stored.record.clone())
                .map_err(|e| Error::store(format!("record of operation {}", stored.id), e))?;
            // A few steps per round: each one persists before it acts.
            for _ in 0..8 {
                let progress = self.step(stored.id, &mut op, head).await?;
                if op.done() {
                    // Its last sale can be newer than `head`: a decision on state before it would
                    // count on pools that sale already moved.
                    self.cooldown_until =
                        head.max(op.last_block()) + self.cfg.strategy.cooldown_blocks;
                    return Ok(());
                }
                if matches!(progress, Progress::Wait) {
                    break;
                }
            }
            return Ok(());
        }
        if head <= self.last_block {
            return Ok(());
        }
        self.last_block = head;
        let obs = observe(
            &self.sub,
            &self.reader,
            &mut self.history,
            self.market.pair,
            head,
        )
        .await?;
        self.store
            .set_observation(&serde_json::to_value(Snapshot::of(&obs)).unwrap_or_default())?;
        tracing::debug!(target: TARGET, block = head, nav = %obs.nav.nav_per_share,
            pool = %obs.pool_price_rao, premium_bps = obs.premium_bps, "observed");
        if head < self.cooldown_until {
            return Ok(());
        }
        let threshold = i128::from(self.cfg.strategy.threshold_bps);
        if obs.premium_bps >= threshold && self.cfg.strategy.create {
            self.decide_creation(&obs).await?;
        } else if obs.premium_bps <= -threshold && self.cfg.strategy.redeem {
            self.decide_redemption(&obs).await?;
        }
        Ok(())
    }

    fn save(&self, id: i64, op: &Operation, block: u64) -> Result<()> {
        let request = match op {
            Operation::Create(c) if c.request_block.is_some() => Some(c.request_id.to_string()),
            _ => None,
        };
        let record = serde_json::to_value(op).map_err(|e| Error::store("encode operation", e))?;
        self.store
            .update_op(id, op.step(), op.done(), block, request.as_deref(), &record)
    }

    async fn gas_cost_rao(&self, gas: u64) -> Result<u64> {
        let price = self.evm.gas_price().await?;
        Ok(ceil_rao(U256::from(price) * U256::from(gas)))
    }

    // ----- decisions ----------------------------------------------------------------------------

    async fn decide_creation(&mut self, obs: &Observation) -> Result<()> {
        let Some(file) = obs.fund.creation_file.clone() else {
            return Ok(());
        };
        if obs.fund.paused {
            return Ok(());
        }
        let mut assets = Vec::with_capacity(file.assets.len());
        for a in &file.assets {
            let price = obs
                .prices
                .iter()
                .find(|p| p.netuid == a.netuid)
                .map(|p| p.price)
                .ok_or_else(|| {
                    Error::Invalid(format!("no official price of netuid {}", a.netuid))
                })?;
            let pool = *obs
                .pools
                .get(&a.netuid)
                .ok_or_else(|| Error::Invalid(format!("no pool of netuid {}", a.netuid)))?;
            assets.push(AssetQuote {
                netuid: a.netuid,
                qty_per_unit: a.qty_per_unit,
                official_price: price,
                pool,
            });
        }
        let free = self.sub.free_balance(obs.block, self.coldkey).await?;
        let inputs = CreationInputs {
            pair: obs.pair,
            assets,
            nav_per_share: obs.nav.nav_per_share,
            mint_fee_bps: obs.fund.fees.mint_bps,
            min_units: file.min_units,
            max_units: self.cfg.strategy.max_units,
            capital_rao: free.min(self.amounts.max_creation_rao),
            buy_buffer_bps: self.cfg.strategy.buy_buffer_bps,
            fixed_cost_rao: self.gas_cost_rao(self.cfg.strategy.creation_gas).await?,
            min_profit_rao: self.amounts.min_profit_rao,
        };
        let Some(plan) = sizing::size_creation(&inputs) else {
            tracing::info!(target: TARGET, block = obs.block, premium_bps = obs.premium_bps,
                free = %format_tao(i128::from(free)), "premium, but no profitable creation size");
            self.cooldown_until = obs.block + self.cfg.strategy.cooldown_blocks;
            return Ok(());
        };
        let tao20 = TAO20::new(self.deployment.tao20, self.evm.provider().clone());
        let nonce = tao20
            .nonces(self.evm.address())
            .call()
            .await
            .map_err(|e| Error::rpc("nonces()", e))?;
        let bond = U256::from(
            tao20
                .creationBond()
                .call()
                .await
                .map_err(|e| Error::rpc("creationBond()", e))?,
        );
        let id = request_id(
            self.deployment.chain_id,
            self.deployment.tao20,
            self.evm.address(),
            nonce,
        );
        let min_shares_out = less_slippage(plan.shares_out, self.cfg.strategy.slippage_bps);
        let remark = delivery_remark(self.deployment.chain_id, self.deployment.vault_coldkey, id);
        let op = CreateOp::new(
            plan,
            Snapshot::of(obs),
            (nonce, id, remark),
            min_shares_out,
            bond,
        );
        tracing::info!(target: TARGET, block = obs.block, request = %id, units = op.plan.units,
            premium_bps = obs.premium_bps, nav = %obs.nav.nav_per_share, pool = %obs.pool_price_rao,
            cost = %format_tao(i128::from(op.plan.cost_rao)),
            expected_profit = %format_tao(op.plan.profit_rao), "creation decided");
        let op = Operation::Create(Box::new(op));
        let record = serde_json::to_value(&op).map_err(|e| Error::store("encode operation", e))?;
        self.store
            .insert_op("create", op.step(), obs.block, &record)?;
        Ok(())
    }

    async fn decide_redemption(&mut self, obs: &Observation) -> Result<()> {
        let balance = floor_rao(self.evm.balance(obs.block).await?);
        let capital = balance.saturating_sub(self.amounts.evm_reserve_rao);
        let mut positions = Vec::with_capacity(obs.fund.positions.len());
        for (p, reserved) in obs.fund.positions.iter().zip(&obs.fund.reserved) {
            let pool = *obs
                .pools
                .get(&p.netuid)
                .ok_or_else(|| Error::Invalid(format!("no pool of netuid {}", p.netuid)))?;
            let spot = self.history.spot(p.netuid).unwrap_or(0);
            // Every fund netuid has an official price in the observation; without one, nothing.
            let official = obs
                .prices
                .iter()
                .find(|q| q.netuid == p.netuid)
                .map_or(0, |q| q.price);
            let lowest = self
                .history
                .lowest(p.netuid)
                .map_or(0, |l| tao20_creation::pricing::spot_to_fp18(l).raw());
            positions.push(PositionQuote {
                netuid: p.netuid,
                amount: p.amount.saturating_sub(*reserved),
                precompile_price: tao20_creation::pricing::spot_to_fp18(spot).raw(),
                price_cap: official.min(lowest),
                pool,
            });
        }
        let inputs = RedemptionInputs {
            pair: obs.pair,
            supply: obs.nav.supply,
            redeem_fee_bps: obs.fund.fees.redeem_bps,
            positions,
            native_wei: obs.fund.native_wei,
            min_stake_rao: self.min_stake_rao,
            capital_rao: capital,
            max_spend_rao: self.amounts.max_redemption_rao,
            step_rao: self.amounts.step_rao,
            fixed_cost_rao: self.gas_cost_rao(self.cfg.strategy.redemption_gas).await?,
            min_profit_rao: self.amounts.min_profit_rao,
        };
        let Some(plan) = sizing::size_redemption(&inputs) else {
            tracing::info!(target: TARGET, block = obs.block, premium_bps = obs.premium_bps,
                capital = %format_tao(i128::from(capital)), "discount, but no profitable redemption size");
            self.cooldown_until = obs.block + self.cfg.strategy.cooldown_blocks;
            return Ok(());
        };
        tracing::info!(target: TARGET, block = obs.block, spend = %format_tao(i128::from(plan.spend_rao)),
            premium_bps = obs.premium_bps, nav = %obs.nav.nav_per_share, pool = %obs.pool_price_rao,
            expected_profit = %format_tao(plan.profit_rao), "redemption decided");
        let op = Operation::Redeem(Box::new(RedeemOp {
            step: "buying".into(),
            plan,
            decided: Snapshot::of(obs),
            txs: Vec::new(),
            shares: None,
            redeemed: None,
            native_wei: None,
            unstakes: Vec::new(),
            unstake_watch_from: None,
            pnl: None,
            finished: None,
            note: None,
        }));
        let record = serde_json::to_value(&op).map_err(|e| Error::store("encode operation", e))?;
        self.store
            .insert_op("redeem", op.step(), obs.block, &record)?;
        Ok(())
    }

    // ----- transactions -------------------------------------------------------------------------

    /// Drives the latest transaction for `purpose`: a new one is built with `make`, recorded
    /// (with the operation) and broadcast; a recorded one is followed (and broadcast again while
    /// the node does not know it).
    async fn drive_tx(
        &self,
        id: i64,
        op: &mut Operation,
        head: u64,
        purpose: &str,
        make: impl std::future::Future<Output = Result<(Address, Bytes, U256)>>,
    ) -> Result<TxProgress> {
        let pending = op
            .txs()
            .iter()
            .rposition(|t| t.signed.purpose == purpose && t.outcome.is_none());
        let Some(i) = pending else {
            let (to, data, value) = make.await?;
            let signed = self.evm.sign(purpose, to, data, value).await?;
            op.txs_mut().push(TxRecord {
                signed: signed.clone(),
                outcome: None,
            });
            self.save(id, op, head)?;
            crash::point(&format!("before-broadcast-{purpose}"));
            self.evm.broadcast(&signed).await?;
            tracing::debug!(target: TARGET, purpose, tx = %signed.hash, nonce = signed.nonce, "broadcast");
            return Ok(TxProgress::Wait);
        };
        let signed = op.txs()[i].signed.clone();
        match self.evm.state(&signed).await? {
            TxState::Mined(m) => {
                let (outcome, receipt) = *m;
                op.txs_mut()[i].outcome = Some(outcome.clone());
                self.save(id, op, head)?;
                if outcome.success {
                    Ok(TxProgress::Done(Box::new((outcome, receipt))))
                } else {
                    tracing::warn!(target: TARGET, purpose, tx = %outcome.hash, "transaction reverted");
                    Ok(TxProgress::Failed)
                }
            }
            TxState::Pending => Ok(TxProgress::Wait),
            TxState::Unknown => {
                self.evm.broadcast(&signed).await?;
                Ok(TxProgress::Wait)
            }
            TxState::Replaced => {
                // Its nonce went to another transaction: it can never be mined.
                let outcome = TxOutcome {
                    hash: signed.hash,
                    block: head,
                    success: false,
                    gas_used: 0,
                    cost_wei: U256::ZERO,
                };
                op.txs_mut()[i].outcome = Some(outcome.clone());
                self.save(id, op, head)?;
                Ok(TxProgress::Failed)
            }
        }
    }

    async fn deadline(&self) -> Result<U256> {
        let block = self
            .evm
            .provider()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| Error::rpc("latest block", e))?
            .ok_or_else(|| Error::rpc("latest block", "missing"))?;
        Ok(U256::from(block.header.timestamp.saturating_add(3_600)))
    }

    /// The miner's own stake extrinsics in blocks `(from, to]`.
    async fn scan_stake_moves(&self, from: u64, to: u64, added: bool) -> Result<Vec<StakeMove>> {
        let mut out = Vec::new();
        for b in from.saturating_add(1)..=to {
            for ext in self.sub.block_extrinsics(b).await? {
                if ext.signer == Some(self.coldkey) && ext.success && decide::stake_calls(&ext.call)
                {
                    out.extend(decide::own_moves(
                        b,
                        ext.index,
                        &ext.events,
                        self.coldkey,
                        added,
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The step's stake extrinsic announced and not recorded (the process died between): once
    /// it would be final, the blocks since are searched for it, what it moved is recorded and the
    /// watch cleared. Found or not, the stake read after that is final past it, so what it shows
    /// is what moved. `false`: not final yet, wait.
    async fn settle_watch(
        &self,
        id: i64,
        op: &mut Operation,
        head: u64,
        added: bool,
    ) -> Result<bool> {
        let Some((from, mut moves)) = op
            .stake_watch()
            .and_then(|(watch, moves)| watch.map(|from| (from, moves.clone())))
        else {
            return Ok(true);
        };
        if !decide::watch_settled(from, head, self.cfg.strategy.inflight_blocks) {
            return Ok(false);
        }
        let found = self.scan_stake_moves(from, head, added).await?;
        let new = decide::merge_moves(&mut moves, found);
        tracing::info!(target: TARGET, from, head, new, kind = if added { "purchase" } else { "sale" },
            "searched the blocks for a stake extrinsic made before a restart");
        if let Some((watch, recorded)) = op.stake_watch() {
            *watch = None;
            *recorded = moves;
        }
        self.save(id, op, head)?;
        Ok(true)
    }

    // ----- steps --------------------------------------------------------------------------------

    async fn step(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let step = op.step().to_string();
        let progress = match (&step[..], op.kind()) {
            ("requesting", "create") => self.requesting(id, op, head).await?,
            ("buying", "create") => self.buying(id, op, head).await?,
            ("delivering", "create") => self.delivering(id, op, head).await?,
            ("following", "create") => self.following(id, op, head).await?,
            ("claiming", "create") => self.claiming(id, op, head).await?,
            ("selling", "create") => self.selling(id, op, head).await?,
            ("unwinding", "create") => self.unwinding(id, op, head).await?,
            ("buying", "redeem") => self.buying_shares(id, op, head).await?,
            ("redeeming", "redeem") => self.redeeming(id, op, head).await?,
            ("unstaking", "redeem") => self.unstaking(id, op, head).await?,
            (other, kind) => {
                return Err(Error::store(
                    format!("operation {id}"),
                    format!("unknown {kind} step {other:?}"),
                ))
            }
        };
        Ok(progress)
    }

    fn create(op: &mut Operation) -> Result<&mut CreateOp> {
        match op {
            Operation::Create(c) => Ok(c),
            Operation::Redeem(_) => Err(Error::Invalid("a redemption in a creation step".into())),
        }
    }

    fn redeem(op: &mut Operation) -> Result<&mut RedeemOp> {
        match op {
            Operation::Redeem(r) => Ok(r),
            Operation::Create(_) => Err(Error::Invalid("a creation in a redemption step".into())),
        }
    }

    fn goto(&self, id: i64, op: &mut Operation, head: u64, step: &str) -> Result<Progress> {
        op.set_step(step);
        self.save(id, op, head)?;
        Ok(Progress::Continue)
    }

    /// Stops a creation early: whatever alpha was bought is sold back.
    fn abandon(&self, id: i64, op: &mut Operation, head: u64, why: &str) -> Result<Progress> {
        let c = Self::create(op)?;
        tracing::warn!(target: TARGET, request = %c.request_id, reason = why, "creation abandoned");
        c.note = Some(why.to_string());
        if c.outcome.is_none() {
            c.outcome = Some("abandoned".into());
        }
        self.goto(id, op, head, "unwinding")
    }

    async fn requesting(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let (request_id, units, min_shares, bond) = {
            let c = Self::create(op)?;
            (c.request_id, c.plan.units, c.min_shares_out, c.bond_wei)
        };
        if let Some(r) = self.reader.request(request_id, head).await? {
            if r.status != RequestStatus::None {
                let c = Self::create(op)?;
                c.request_block = Some(r.request_block);
                c.epoch_id = Some(r.epoch_id);
                tracing::info!(target: TARGET, request = %request_id, block = r.request_block,
                    epoch = r.epoch_id, units, "creation requested");
                crash::point("after-request");
                return self.goto(id, op, head, "buying");
            }
        }
        let tao20 = self.deployment.tao20;
        let coldkey = B256::from(self.coldkey.0);
        let receiver = self.evm.address();
        let make = async move {
            let data: Bytes = TAO20::requestCreationCall {
                units,
                coldkey,
                receiver,
                minSharesOut: min_shares,
            }
            .abi_encode()
            .into();
            Ok((tao20, data, bond))
        };
        match self.drive_tx(id, op, head, "requestCreation", make).await {
            Ok(TxProgress::Done(_)) | Ok(TxProgress::Wait) => Ok(Progress::Wait),
            Ok(TxProgress::Failed) => {
                self.finish_abandoned(id, op, head, "requestCreation reverted")
            }
            Err(Error::Reverted { reason, .. }) => self.finish_abandoned(
                id,
                op,
                head,
                &format!("requestCreation would revert: {reason}"),
            ),
            Err(e) => Err(e),
        }
    }

    /// A creation that never got a request: nothing was spent but gas.
    fn finish_abandoned(
        &self,
        id: i64,
        op: &mut Operation,
        head: u64,
        why: &str,
    ) -> Result<Progress> {
        let c = Self::create(op)?;
        tracing::warn!(target: TARGET, request = %c.request_id, reason = why, "creation not requested");
        c.note = Some(why.into());
        c.outcome = Some("abandoned".into());
        // No request: nothing bought, no bond posted; only gas went.
        c.pnl = Some(decide::creation_pnl(c));
        c.step = "done".into();
        self.save(id, op, head)?;
        Ok(Progress::Wait)
    }

    fn window_end(&self, c: &CreateOp) -> u64 {
        c.request_block
            .unwrap_or_default()
            .saturating_add(self.deployment.delivery_window)
    }

    async fn basket(&self, c: &CreateOp, head: u64) -> Result<Vec<(u16, u64)>> {
        let epoch = c
            .epoch_id
            .ok_or_else(|| Error::Invalid("a creation without its epoch".into()))?;
        let file = self
            .reader
            .creation_file(epoch, head)
            .await?
            .ok_or_else(|| Error::Invalid(format!("epoch {epoch} has no creation file")))?;
        crate::creation::basket(&file, c.plan.units)
    }

    async fn buying(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let basket = {
            let c = Self::create(op)?;
            self.basket(c, head).await?
        };
        // A purchase submitted just before a restart: record what it bought.
        if !self.settle_watch(id, op, head, true).await? {
            return Ok(Progress::Wait);
        }
        // A purchase not yet final is not in the stake read at `head`: buying again now would
        // buy the basket twice.
        if Self::create(op)?.buys.iter().any(|b| b.block > head) {
            return Ok(Progress::Wait);
        }
        let availability = self.sub.stake_availability(head, self.coldkey).await?;
        let mut staked = Vec::with_capacity(basket.len());
        for (n, _) in &basket {
            staked.push(self.sub.stake(head, self.coldkey, self.hotkey, *n).await?);
        }
        let holdings = decide::holdings(&basket, &staked, availability.as_ref());
        if !holdings.locked.is_empty() {
            let c = Self::create(op)?;
            if c.locked != holdings.locked {
                tracing::warn!(target: TARGET, request = %c.request_id, locked = ?holdings.locked,
                    "alpha held under the hotkey is locked (netuid, rao): the delivery cannot include it, so the basket buys it instead");
            }
            c.locked = holdings.locked.clone();
        }
        let first_look = {
            let c = Self::create(op)?;
            c.buys.is_empty() && c.held_before.is_empty()
        };
        if first_look {
            let mut value = 0u64;
            for ((n, _), h) in basket.iter().zip(&holdings.movable) {
                if *h > 0 {
                    let price = self.sub.current_alpha_price(head, *n).await?;
                    value = value.saturating_add(decide::alpha_value(*h, price));
                }
            }
            let c = Self::create(op)?;
            // All of it, locked or not: what is above it afterwards was bought and is sold.
            c.held_before = basket
                .iter()
                .zip(&staked)
                .map(|((n, _), h)| (*n, *h))
                .collect();
            // Held alpha the delivery can use is a cost at its value now.
            c.held_value_rao = value;
        }
        let shortfall = decide::shortfall(&basket, &holdings.movable);
        if shortfall.is_empty() {
            return self.goto(id, op, head, "delivering");
        }
        let c = Self::create(op)?;
        let refused = decide::purchase_refused(
            c,
            head,
            self.window_end(c),
            self.cfg.strategy.delivery_margin_blocks,
        );
        if let Some(why) = refused {
            return self.abandon(id, op, head, why);
        }
        let mut calls = Vec::with_capacity(shortfall.len());
        let mut total: u64 = 0;
        for (n, alpha) in &shortfall {
            let pool = sizing::SubnetPool::from_chain(&self.sub.swap_pool(head, *n).await?);
            let tao = pool.tao_to_buy(*alpha).ok_or_else(|| {
                Error::Invalid(format!("netuid {n}'s pool cannot supply {alpha} alpha"))
            })?;
            let tao = decide::stake_for(tao, self.cfg.strategy.buy_buffer_bps, self.min_stake_rao);
            total = total.saturating_add(tao);
            calls.push(Call::AddStake {
                hotkey: self.hotkey,
                netuid: *n,
                amount_staked: tao,
            });
        }
        let free = self.sub.free_balance(head, self.coldkey).await?;
        if free < total {
            return self.abandon(
                id,
                op,
                head,
                &format!(
                    "the basket needs {} TAO, the coldkey holds {}",
                    format_tao(i128::from(total)),
                    format_tao(i128::from(free))
                ),
            );
        }
        Self::create(op)?.buy_watch_from = Some(head);
        self.save(id, op, head)?;
        match self.submit_stakes(calls, true, Some("buy")).await? {
            Ok((block, moves)) => {
                let c = Self::create(op)?;
                c.buys.extend(moves);
                c.buy_watch_from = None;
                tracing::info!(target: TARGET, request = %c.request_id, block,
                    tao = %format_tao(i128::from(total)), "basket bought");
                self.save(id, op, block)?;
                Ok(Progress::Continue)
            }
            Err(e) => {
                let c = Self::create(op)?;
                c.buy_watch_from = None;
                c.buy_failures += 1;
                self.save(id, op, head)?;
                tracing::warn!(target: TARGET, error = %e, "basket purchase failed");
                Ok(Progress::Wait)
            }
        }
    }

    /// Submits a stake `batch_all` whose watch the operation has saved: the block it landed in
    /// and the coldkey's moves in it, or the dispatch error of an extrinsic that was included
    /// and moved nothing. `crash_at` names the crash points around it (`before-…`, `after-…`).
    async fn submit_stakes(
        &self,
        calls: Vec<Call>,
        added: bool,
        crash_at: Option<&str>,
    ) -> Result<std::result::Result<(u64, Vec<StakeMove>), tao20_chain::Error>> {
        if let Some(p) = crash_at {
            crash::point(&format!("before-{p}"));
        }
        match self.sub.submit(Call::BatchAll { calls }).await {
            Ok(inc) => {
                if let Some(p) = crash_at {
                    crash::point(&format!("after-{p}"));
                }
                let block = inc.block.number;
                let moves = decide::own_moves(block, inc.index, &inc.events, self.coldkey, added);
                Ok(Ok((block, moves)))
            }
            Err(e @ tao20_chain::Error::Dispatch { .. }) => Ok(Err(e)),
            Err(e) => Err(e.into()),
        }
    }

    async fn delivering(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let (request_id, remark, request_block, window_end) = {
            let c = Self::create(op)?;
            (
                c.request_id,
                c.remark,
                c.request_block.unwrap_or_default(),
                self.window_end(c),
            )
        };
        let key = request_id.to_string();
        let intent = self.store.delivery(&key)?;
        if let Some(intent) = intent {
            // A delivery was submitted: find it before anything else is sent.
            let to = head.min(window_end);
            for b in request_block.saturating_add(1)..=to {
                for ext in self.sub.block_extrinsics(b).await? {
                    if ext.signer == Some(self.coldkey)
                        && ext.success
                        && decide::has_remark(&ext.call, remark.as_slice())
                    {
                        let amounts = self.vault_amounts(&ext.events);
                        self.store.delivery_landed(&key, b, ext.index)?;
                        let c = Self::create(op)?;
                        c.delivery = Some(Landed {
                            block: b,
                            index: ext.index,
                            amounts,
                        });
                        tracing::info!(target: TARGET, request = %request_id, block = b, "delivery found on chain");
                        return self.goto(id, op, head, "following");
                    }
                }
            }
            match decide::delivery_absent(
                intent.submitted_head,
                head,
                window_end,
                self.cfg.strategy.inflight_blocks,
                self.cfg.strategy.delivery_margin_blocks,
            ) {
                Absent::Wait => return Ok(Progress::Wait),
                Absent::Abandon => {
                    return self.abandon(
                        id,
                        op,
                        head,
                        "the delivery was not included in its window",
                    )
                }
                Absent::Resubmit => {}
            }
            // Proven absent for `inflight_blocks` blocks: the first submission is lost.
            tracing::warn!(target: TARGET, request = %request_id, submitted = intent.submitted_head,
                "the delivery never appeared; submitting it again");
            self.store.resubmit_delivery(&key, head)?;
        } else {
            if head.saturating_add(self.cfg.strategy.delivery_margin_blocks) >= window_end {
                return self.abandon(id, op, head, "too late to deliver");
            }
            let record =
                serde_json::to_value(&*op).map_err(|e| Error::store("encode operation", e))?;
            if !self
                .store
                .begin_delivery(&key, head, (id, "delivering", &record))?
            {
                return Ok(Progress::Wait);
            }
        }
        let basket = {
            let c = Self::create(op)?;
            self.basket(c, head).await?
        };
        let transfers: Vec<TransferStake> = basket
            .iter()
            .map(|(n, a)| TransferStake {
                destination_coldkey: Bytes32(self.deployment.vault_coldkey.0),
                hotkey: self.hotkey,
                origin_netuid: *n,
                destination_netuid: *n,
                alpha_amount: *a,
            })
            .collect();
        crash::point("before-deliver");
        match self.sub.deliver(remark.to_vec(), transfers).await {
            Ok(inc) => {
                crash::point("after-deliver");
                let amounts = self.vault_amounts(&inc.events);
                self.store
                    .delivery_landed(&key, inc.block.number, inc.index)?;
                let c = Self::create(op)?;
                c.delivery = Some(Landed {
                    block: inc.block.number,
                    index: inc.index,
                    amounts,
                });
                tracing::info!(target: TARGET, request = %request_id, block = inc.block.number,
                    window_end, "basket delivered");
                self.goto(id, op, inc.block.number, "following")
            }
            Err(e @ tao20_chain::Error::Dispatch { .. }) => {
                // Included and failed: nothing moved; it may be submitted again.
                tracing::warn!(target: TARGET, request = %request_id, error = %e, "delivery failed");
                self.store.resubmit_delivery(&key, 0)?;
                Ok(Progress::Wait)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn vault_amounts(&self, events: &[Event]) -> Vec<(u16, u64)> {
        let vault = Bytes32(self.deployment.vault_coldkey.0);
        events
            .iter()
            .filter_map(|e| match e {
                Event::StakeAdded(s) if s.coldkey == vault => Some((s.netuid, s.alpha)),
                _ => None,
            })
            .collect()
    }

    async fn following(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let (request_id, from) = {
            let c = Self::create(op)?;
            (c.request_id, c.delivery.as_ref().map_or(0, |d| d.block))
        };
        let Some(r) = self.reader.request(request_id, head).await? else {
            return Ok(Progress::Wait);
        };
        match r.status {
            RequestStatus::Pending | RequestStatus::None => Ok(Progress::Wait),
            RequestStatus::Minted => {
                let mut shares = None;
                for e in self.reader.logs(from, head).await? {
                    if let ContractEvent::CreationMinted(m) = e.event {
                        if m.request_id == request_id {
                            shares = Some(m.shares_out);
                        }
                    }
                }
                let shares = shares.ok_or_else(|| {
                    Error::Invalid(format!(
                        "request {request_id} minted but no CreationMinted event found"
                    ))
                })?;
                let c = Self::create(op)?;
                c.shares_out = Some(shares);
                c.outcome = Some("minted".into());
                tracing::info!(target: TARGET, request = %request_id, shares = %shares,
                    expected = %c.plan.shares_out, "creation minted");
                self.goto(id, op, head, "claiming")
            }
            RequestStatus::Refunded | RequestStatus::Expired => {
                let status = if r.status == RequestStatus::Refunded {
                    "refunded"
                } else {
                    "expired"
                };
                Self::create(op)?.outcome = Some(status.into());
                tracing::warn!(target: TARGET, request = %request_id, status, "creation not minted");
                self.goto(id, op, head, "unwinding")
            }
        }
    }

    async fn claiming(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let request_id = Self::create(op)?.request_id;
        let bond = self
            .reader
            .request(request_id, head)
            .await?
            .map_or(U256::ZERO, |r| r.bond);
        if bond.is_zero() {
            return self.goto(id, op, head, "selling");
        }
        let tao20 = self.deployment.tao20;
        let make = async move {
            let data: Bytes = TAO20::claimBondCall {
                requestId: request_id,
            }
            .abi_encode()
            .into();
            Ok((tao20, data, U256::ZERO))
        };
        match self.drive_tx(id, op, head, "claimBond", make).await? {
            TxProgress::Done(_) => {
                tracing::info!(target: TARGET, request = %request_id, bond = %bond, "bond claimed");
                self.goto(id, op, head, "selling")
            }
            TxProgress::Failed | TxProgress::Wait => Ok(Progress::Wait),
        }
    }

    async fn selling(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let shares = Self::create(op)?.shares_out.unwrap_or_default();
        if shares.is_zero() || Self::create(op)?.sale_wei.is_some() {
            return self.goto(id, op, head, "unwinding");
        }
        let tao20 = TAO20::new(self.deployment.tao20, self.evm.provider().clone());
        let allowance = tao20
            .allowance(self.evm.address(), self.market.router)
            .call()
            .await
            .map_err(|e| Error::rpc("allowance()", e))?;
        if allowance < shares {
            let (token, router) = (self.deployment.tao20, self.market.router);
            let make = async move {
                Ok((
                    token,
                    market::approve_calldata(router, U256::MAX),
                    U256::ZERO,
                ))
            };
            return match self.drive_tx(id, op, head, "approve", make).await? {
                TxProgress::Done(_) => Ok(Progress::Continue),
                _ => Ok(Progress::Wait),
            };
        }
        let pair = market::reserves(
            self.evm.provider(),
            self.market.pair,
            self.deployment.tao20,
            head,
        )
        .await?;
        let expected = amount_out(shares, pair.shares, pair.tao);
        let min_out = less_slippage(expected, self.cfg.strategy.slippage_bps);
        let deadline = self.deadline().await?;
        let (token, wtao, to, router) = (
            self.deployment.tao20,
            self.market.wtao,
            self.evm.address(),
            self.market.router,
        );
        let make = async move {
            Ok((
                router,
                market::sell_shares_calldata(token, wtao, shares, min_out, to, deadline),
                U256::ZERO,
            ))
        };
        match self.drive_tx(id, op, head, "sellShares", make).await {
            Ok(TxProgress::Done(m)) => {
                let (_, receipt) = *m;
                let wei = self.withdrawn(&receipt);
                let c = Self::create(op)?;
                c.sale_wei = Some(wei);
                tracing::info!(target: TARGET, request = %c.request_id, shares = %shares,
                    tao = %format_tao(i128::from(floor_rao(wei))), "shares sold");
                self.goto(id, op, head, "unwinding")
            }
            Ok(_) => Ok(Progress::Wait),
            // The price moved past the minimum while simulating: try again next block.
            Err(Error::Reverted { reason, .. }) => {
                tracing::warn!(target: TARGET, reason, "share sale would revert; retrying");
                Ok(Progress::Wait)
            }
            Err(e) => Err(e),
        }
    }

    /// Native TAO the router paid out in `receipt` (WTAO's `Withdrawal` events).
    fn withdrawn(&self, receipt: &TransactionReceipt) -> U256 {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == self.market.wtao)
            .filter_map(|l| market::WETH9::Withdrawal::decode_log(&l.inner).ok())
            .fold(U256::ZERO, |a, e| a + e.data.wad)
    }

    async fn unwinding(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        if !self.settle_watch(id, op, head, false).await? {
            return Ok(Progress::Wait);
        }
        let held_before = Self::create(op)?.held_before.clone();
        let availability = self.sub.stake_availability(head, self.coldkey).await?;
        let mut calls = Vec::new();
        for (n, before) in &held_before {
            let held = self.sub.stake(head, self.coldkey, self.hotkey, *n).await?;
            let free = match &availability {
                Some(a) => a.get(n).map_or(0, |a| a.available),
                None => held,
            };
            let extra = decide::unwind_extra(held, *before, free);
            if extra == 0 {
                continue;
            }
            let price = self.sub.current_alpha_price(head, *n).await?;
            if !decide::worth_unstaking(extra, price, self.min_stake_rao) {
                continue;
            }
            calls.push(Call::RemoveStake {
                hotkey: self.hotkey,
                netuid: *n,
                amount_unstaked: extra,
            });
        }
        if calls.is_empty() {
            return self.finish_creation(id, op, head).await;
        }
        Self::create(op)?.unwind_watch_from = Some(head);
        self.save(id, op, head)?;
        match self.submit_stakes(calls, false, None).await? {
            Ok((block, moves)) => {
                let c = Self::create(op)?;
                c.unwinds.extend(moves);
                c.unwind_watch_from = None;
                self.finish_creation(id, op, block).await
            }
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, "selling leftover alpha failed; kept");
                Self::create(op)?.unwind_watch_from = None;
                self.finish_creation(id, op, head).await
            }
        }
    }

    /// The pool's premium over `nav` at `head`, or at the EVM's head if that is behind: an
    /// operation can finish at a substrate block (its last unstake) the EVM has not built yet, and
    /// a read there is refused as a future block.
    async fn snapshot_now(&self, head: u64, nav: U256) -> Result<Snapshot> {
        let head = head.min(self.reader.head().await?);
        let pair = market::reserves(
            self.evm.provider(),
            self.market.pair,
            self.deployment.tao20,
            head,
        )
        .await?;
        let price = pair.price_rao();
        Ok(Snapshot {
            block: head,
            nav_rao: nav,
            pool_price_rao: price,
            premium_bps: crate::observe::premium_bps(price, nav),
        })
    }

    /// The premium once an operation is done: a report figure, so a failed read is said and the
    /// operation still finishes (its P&L is what counts).
    async fn snapshot_after(&self, head: u64, nav: U256) -> Option<Snapshot> {
        match self.snapshot_now(head, nav).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, head, "the premium after the operation was not read");
                None
            }
        }
    }

    async fn finish_creation(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let c = Self::create(op)?;
        let pnl = decide::creation_pnl(c);
        c.pnl = Some(pnl);
        let nav = c.decided.nav_rao;
        let finished = self
            .snapshot_after(head.max(last_tx_block(&c.txs)), nav)
            .await;
        let c = Self::create(op)?;
        c.finished = finished.clone();
        c.step = "done".into();
        tracing::info!(target: TARGET, request = %c.request_id, units = c.plan.units,
            outcome = c.outcome.as_deref().unwrap_or(""),
            cost = %format_tao(i128::from(pnl.cost_rao)),
            proceeds = %format_tao(i128::from(pnl.proceeds_rao)),
            gas = %format_tao(i128::from(pnl.gas_rao)),
            bond_lost = %format_tao(i128::from(pnl.bond_lost_rao)),
            profit = %format_tao(pnl.profit_rao),
            premium_before_bps = c.decided.premium_bps,
            premium_after_bps = finished.as_ref().map_or(0, |s| s.premium_bps),
            "creation done: P&L {} TAO", format_tao(pnl.profit_rao));
        self.save(id, op, head)?;
        Ok(Progress::Wait)
    }

    // ----- redemption ---------------------------------------------------------------------------

    async fn buying_shares(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let (spend, expected) = {
            let r = Self::redeem(op)?;
            (r.plan.spend_rao, r.plan.shares)
        };
        let min_shares = less_slippage(expected, self.cfg.strategy.slippage_bps);
        let deadline = self.deadline().await?;
        let (token, wtao, to, router) = (
            self.deployment.tao20,
            self.market.wtao,
            self.evm.address(),
            self.market.router,
        );
        let value = U256::from(spend) * U256::from(WEI_PER_RAO);
        let make = async move {
            Ok((
                router,
                market::buy_shares_calldata(token, wtao, min_shares, to, deadline),
                value,
            ))
        };
        match self.drive_tx(id, op, head, "buyShares", make).await {
            Ok(TxProgress::Done(m)) => {
                let (_, receipt) = *m;
                let shares = receipt
                    .inner
                    .logs()
                    .iter()
                    .filter(|l| l.address() == self.deployment.tao20)
                    .filter_map(|l| TAO20::Transfer::decode_log(&l.inner).ok())
                    .filter(|e| e.data.to == self.evm.address())
                    .fold(U256::ZERO, |a, e| a + e.data.value);
                Self::redeem(op)?.shares = Some(shares);
                tracing::info!(target: TARGET, shares = %shares, spend = %format_tao(i128::from(spend)), "shares bought");
                self.goto(id, op, head, "redeeming")
            }
            Ok(TxProgress::Failed) => {
                self.finish_redemption(id, op, head, Some("share purchase reverted"))
                    .await
            }
            Ok(TxProgress::Wait) => Ok(Progress::Wait),
            Err(Error::Reverted { reason, .. }) => {
                self.finish_redemption(
                    id,
                    op,
                    head,
                    Some(&format!("share purchase would revert: {reason}")),
                )
                .await
            }
            Err(e) => Err(e),
        }
    }

    async fn redeeming(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        let (shares, plan) = {
            let r = Self::redeem(op)?;
            (r.shares.unwrap_or_default(), r.plan.clone())
        };
        let fund = self.reader.fund(head).await?;
        let n = fund.positions.len();
        let netuids: Vec<u16> = fund.positions.iter().map(|p| p.netuid).collect();
        let min_amounts = decide::redeem_min_amounts(
            &plan.amounts,
            plan.shares,
            shares,
            &netuids,
            self.cfg.strategy.slippage_bps,
        );
        let tao20 = self.deployment.tao20;
        let coldkey = B256::from(self.coldkey.0);
        let make = async move {
            let data: Bytes = TAO20::redeemCall {
                shares,
                coldkey,
                minAmounts: min_amounts,
                skip: vec![false; n + 1],
            }
            .abi_encode()
            .into();
            Ok((tao20, data, U256::ZERO))
        };
        match self.drive_tx(id, op, head, "redeem", make).await {
            Ok(TxProgress::Done(m)) => {
                let (_, receipt) = *m;
                let mut paid = Vec::new();
                let mut native = U256::ZERO;
                for log in receipt.inner.logs() {
                    if log.address() != self.deployment.tao20 {
                        continue;
                    }
                    let Ok(e) = decode_log(log) else { continue };
                    if let ContractEvent::Redeemed { amounts, .. } = e.event {
                        for (i, p) in fund.positions.iter().enumerate() {
                            let a = amounts.get(i).copied().unwrap_or_default();
                            paid.push(Paid {
                                netuid: p.netuid,
                                hotkey: p.hotkey,
                                amount: u64::try_from(a).unwrap_or(u64::MAX),
                            });
                        }
                        native = amounts.get(n).copied().unwrap_or_default();
                    }
                }
                let r = Self::redeem(op)?;
                r.redeemed = Some(paid);
                r.native_wei = Some(native);
                tracing::info!(target: TARGET, shares = %shares, "shares redeemed in kind");
                self.goto(id, op, head, "unstaking")
            }
            Ok(TxProgress::Failed) | Ok(TxProgress::Wait) => Ok(Progress::Wait),
            Err(Error::Reverted { reason, .. }) => {
                tracing::warn!(target: TARGET, reason, "redeem would revert; retrying");
                Ok(Progress::Wait)
            }
            Err(e) => Err(e),
        }
    }

    async fn unstaking(&self, id: i64, op: &mut Operation, head: u64) -> Result<Progress> {
        if !self.settle_watch(id, op, head, false).await? {
            return Ok(Progress::Wait);
        }
        // The redeem's receipt can be newer than the finalized head this round reads at: the
        // alpha it paid is not in that state yet, and reading it there would sell nothing.
        let landed = Self::redeem(op)?
            .txs
            .iter()
            .rev()
            .filter(|t| t.signed.purpose == "redeem")
            .find_map(|t| t.outcome.as_ref().filter(|o| o.success).map(|o| o.block));
        if landed.is_some_and(|b| head < b) {
            return Ok(Progress::Wait);
        }
        let paid = Self::redeem(op)?.redeemed.clone().unwrap_or_default();
        let mut calls = Vec::new();
        for p in &paid {
            let (n, hk) = (&p.netuid, Bytes32(p.hotkey.0));
            let held = self.sub.stake(head, self.coldkey, hk, *n).await?;
            // Only what the redemption paid: alpha held there before is not this operation's.
            // Normally that is the whole position, which no minimum stake applies to.
            let amount = held.min(p.amount);
            if amount == 0 {
                continue;
            }
            calls.push(Call::RemoveStake {
                hotkey: hk,
                netuid: *n,
                amount_unstaked: amount,
            });
        }
        if calls.is_empty() {
            return self.finish_redemption(id, op, head, None).await;
        }
        Self::redeem(op)?.unstake_watch_from = Some(head);
        self.save(id, op, head)?;
        match self.submit_stakes(calls, false, Some("unstake")).await? {
            Ok((block, moves)) => {
                let r = Self::redeem(op)?;
                r.unstakes.extend(moves);
                r.unstake_watch_from = None;
                self.finish_redemption(id, op, block, None).await
            }
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, "unstaking failed; retrying");
                Self::redeem(op)?.unstake_watch_from = None;
                self.save(id, op, head)?;
                Ok(Progress::Wait)
            }
        }
    }

    async fn finish_redemption(
        &self,
        id: i64,
        op: &mut Operation,
        head: u64,
        note: Option<&str>,
    ) -> Result<Progress> {
        let r = Self::redeem(op)?;
        let pnl = decide::redemption_pnl(r);
        r.pnl = Some(pnl);
        r.note = note.map(str::to_string);
        let nav = r.decided.nav_rao;
        let finished = self
            .snapshot_after(head.max(last_tx_block(&r.txs)), nav)
            .await;
        let r = Self::redeem(op)?;
        r.finished = finished.clone();
        r.step = "done".into();
        tracing::info!(target: TARGET, spend = %format_tao(i128::from(pnl.cost_rao)),
            proceeds = %format_tao(i128::from(pnl.proceeds_rao)),
            gas = %format_tao(i128::from(pnl.gas_rao)),
            profit = %format_tao(pnl.profit_rao), premium_before_bps = r.decided.premium_bps,
            premium_after_bps = finished.as_ref().map_or(0, |s| s.premium_bps),
            note = note.unwrap_or(""), "redemption done: P&L {} TAO", format_tao(pnl.profit_rao));
        self.save(id, op, head)?;
        Ok(Progress::Wait)
    }
}
