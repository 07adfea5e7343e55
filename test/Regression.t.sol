// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {CreationReport, Position, RefundReport, Sweep} from "../contracts/interfaces/ITAO20.sol";

/// @notice One test per finding of the review of the contract against the live runtime (issue 9).
///         Each failed on the contract before the fix, for the reason its first assertion names.
contract RegressionTest is BaseTest {
    function _one(uint16 netuid) internal pure returns (uint16[] memory list) {
        list = new uint16[](1);
        list[0] = netuid;
    }

    /// @dev Finding 1: `getAlphaPrice` answers wei per alpha and a refused dispatch burns the gas
    ///      forwarded to it, so dust must be decided from the price before any call.
    function test_Regression_RedeemDustWeiPrice() public {
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(2, 10e9);
        CreationReport memory r = _report(id, ps, 20e9, 1e9);
        t.mint(r, _reportSigs(r));
        vm.prank(miner);
        t.transfer(holder, 1e18);
        // Both subnets fall to 1e-4 TAO per alpha: a tenth of a share's part of each is dust.
        staking.setSubnet(1, 1e5, false);
        staking.setSubnet(2, 1e5, false);

        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        uint256 gasBefore = gasleft();
        vm.prank(holder);
        (bool ok,) = address(t).call{gas: 30_000_000}(abi.encodeCall(t.redeem, (1e17, holderColdkey, mins, skip)));
        uint256 used = gasBefore - gasleft();
        assertTrue(ok, "a redemption whose positions are dust reverted");
        assertLt(used, 1_000_000, "a refused dispatch burned the gas forwarded to it");
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), 0, "dust is never sent to the runtime");
        assertEq(staking.stakeOf(fundHk(2), holderColdkey, 2), 0, "dust is never sent to the runtime");
    }

    /// @dev Finding 2: a subnet owner holding TAO20 disables transfers so other holders must skip
    ///      its subnet, then re-enables and redeems what they left behind.
    function test_Regression_TransferToggleConfiscation() public {
        (uint256 minted,) = _createShares(10e9, 10e9, 1e9);
        vm.prank(miner);
        t.transfer(holder, minted / 2);
        staking.setSubnet(1, 0, true); // the subnet owner (the miner, a TAO20 holder) disables transfers

        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        skip[0] = true;
        uint256 supply = t.totalSupply() + t.pendingManagementFee();
        uint256 shares = t.balanceOf(holder);
        uint256 burned = shares - (shares * REDEEM_FEE + 9999) / 10_000;
        uint256 owed = 10e9 * burned / supply;
        vm.prank(holder);
        t.redeem(shares, holderColdkey, mins, skip);

        staking.setSubnet(1, 0, false);
        (mins, skip) = _noSkip();
        uint256 rest = t.balanceOf(miner);
        vm.prank(miner);
        t.redeem(rest, minerColdkey, mins, skip);
        assertGe(_fundStake(1), owed, "the skipping holder's alpha went to the subnet owner");

        (bool ok,) = address(t).call(abi.encodeWithSignature("claim(bytes32,uint16[])", holderColdkey, _one(1)));
        assertTrue(ok, "the holder's coldkey cannot claim what it was owed");
        assertEq(staking.stakeOf(fundHk(1), holderColdkey, 1), owed, "claimed in full");
    }

    /// @dev Finding 3: a permissionless fund hotkey change, applied by whoever chooses the moment,
    ///      left a valid delivery under the new hotkey neither mintable nor refundable.
    function test_Regression_FundHotkeyChangeStrandsDelivery() public {
        bytes32 validator = keccak256("tao20.validator");
        _queueFundHotkey(1, validator);
        _publish(1);
        bytes32 valid = _request(1, 0);
        bytes32 invalid = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        // Both miners stake with that validator and deliver under its hotkey.
        staking.setStake(validator, minerColdkey, 1, 1e9 + 5e8);
        staking.transferStakeFrom(minerColdkey, vault, validator, 1, 1e9);
        staking.transferStakeFrom(minerColdkey, vault, validator, 1, 5e8);

        vm.prank(makeAddr("griefer"));
        assertTrue(_applyFundHotkey(1, validator), "the change applies");

        Position[] memory ps = new Position[](1);
        ps[0] = Position({netuid: 1, hotkey: validator, amount: 1e9});
        CreationReport memory r = _report(valid, ps, 1e9, 1e9);
        uint256 out = t.mint(r, _reportSigs(r));
        assertGt(out, 0, "the valid delivery mints");
        assertEq(staking.stakeOf(validator, vault, 1), 1e9 + 5e8, "it is already on the fund hotkey");

        vm.roll(block.number + WINDOW);
        ps[0].amount = 5e8;
        RefundReport memory rr = _refundReport(invalid, minerColdkey, ps, deliveredAt);
        t.refund(rr, _refundSigs(rr));
        assertEq(staking.stakeOf(validator, minerColdkey, 1), 5e8, "the invalid delivery is refunded");
        assertEq(_fundStake(1) + staking.stakeOf(validator, vault, 1), 1e9, "the fund keeps the minted one");
    }

    /// @dev Finding 4: after a pause longer than window + grace anyone could expire a validly
    ///      delivered request and take the honest miner's bond.
    function test_Regression_PauseExpiresHonestMiner() public {
        _publish(1);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, 1e9);
        vm.prank(guardian);
        t.setPaused(true);
        vm.roll(block.number + WINDOW + GRACE + 10);

        (bool ok,) = address(t).call(abi.encodeCall(t.expire, (id)));
        assertFalse(ok, "an honest miner's request expired while the fund was paused");
        vm.prank(guardian);
        t.setPaused(false);
        (ok,) = address(t).call(abi.encodeCall(t.expire, (id)));
        assertFalse(ok, "it expired the moment the fund resumed");

        CreationReport memory r = _report(id, ps, 1e9, 1e9);
        assertGt(t.mint(r, _reportSigs(r)), 0, "the delivery still mints");
    }

    /// @dev Finding 5: a queued change stayed applicable forever, by anyone, with no fresh notice.
    function test_Regression_QueuedChangeLapses() public {
        _queueCreationBond(2 ether);
        vm.roll(block.number + 30 * 7200); // a month later
        assertFalse(_applyCreationBond(2 ether), "a change queued a month ago still applies");
        assertEq(t.creationBond(), BOND, "the bond is unchanged");
    }

    /// @dev Finding 6: with two deliveries under one hotkey, a refund of an already minted delivery
    ///      was accepted and paid from the other miner's pending stake.
    function test_Regression_MintDoesNotRecordDelivery() public {
        _publish(1);
        address miner2 = makeAddr("miner2");
        bytes32 coldkey2 = keccak256("tao20.coldkey.miner2");
        vm.deal(miner2, 10 ether);
        bytes32 first = _request(1, 0);
        vm.prank(miner2);
        t.requestCreation{value: BOND}(1, coldkey2, miner2, 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(1, 1e9);
        staking.setStake(minerHk(1), coldkey2, 1, 1e9);
        staking.transferStakeFrom(coldkey2, vault, minerHk(1), 1, 1e9); // the second miner's, same hotkey
        CreationReport memory r = _report(first, ps, 1e9, 1e9);
        t.mint(r, _reportSigs(r));

        RefundReport memory rr = _refundReport(bytes32(0), minerColdkey, ps, r.deliveryBlock);
        rr.deliveryIndex = r.deliveryIndex; // the minted delivery, refunded as an orphan
        bytes[] memory sigs = _refundSigs(rr);
        (bool ok,) = address(t).call(abi.encodeCall(t.refund, (rr, sigs)));
        assertFalse(ok, "a minted delivery was refunded from another miner's pending stake");
        assertEq(staking.stakeOf(minerHk(1), vault, 1), 1e9, "the second delivery is untouched");
    }

    /// @dev Finding 7: the runtime moves whole rao, so booking a bond's sub-rao wei made
    ///      `fundNativeBalance` underflow and froze every redemption that takes native TAO.
    function test_Regression_SubRaoBondFreezesRedemptions() public {
        (uint256 minted,) = _createShares(10e9, 10e9, 1e9);
        vm.prank(miner);
        t.transfer(holder, minted / 2);
        vm.prank(miner);
        try t.requestCreation{value: uint256(BOND) + 1}(1, minerColdkey, miner, 0) {
            // On chain the contract's balance grew by floor(wei / 1e9) rao: model the runtime.
            vm.deal(address(t), address(t).balance - 1);
        } catch {}

        (uint256[] memory mins, bool[] memory skip) = _noSkip();
        vm.prank(holder);
        (bool ok,) = address(t).call(abi.encodeCall(t.redeem, (1e18, holderColdkey, mins, skip)));
        assertTrue(ok, "a sub-rao bond froze every redemption that takes native TAO");
    }

    /// @dev Finding 8: dust could be neither refunded nor swept (the runtime refuses both below
    ///      the minimum), and a partial refund spent the whole delivery id for good.
    function test_Regression_DustDeliveryStranded() public {
        _publish(2);
        bytes32 id = _request(1, 0);
        vm.roll(block.number + 1);
        uint64 deliveredAt = uint64(block.number);
        Position[] memory ps = _deliver(2, 3e9);
        vm.roll(block.number + WINDOW);
        staking.setSubnet(2, 1e5, false); // netuid 2 falls: 3e9 of it is worth 3e5 rao, below the minimum

        RefundReport memory r = _refundReport(id, minerColdkey, ps, deliveredAt);
        bytes[] memory sigs = _refundSigs(r);
        (bool ok,) = address(t).call{gas: 5_000_000}(abi.encodeCall(t.refund, (r, sigs)));
        assertTrue(ok, "one dust position blocked the whole refund");
        assertEq(staking.stakeOf(minerHk(1), minerColdkey, 1), 3e9, "the transferable position is refunded");
        assertEq(staking.stakeOf(minerHk(2), vault, 2), 3e9, "the dust position waits in the vault");

        staking.setSubnet(2, 0, false); // worth the minimum again: the same signed report refunds the rest
        t.refund(r, sigs);
        assertEq(staking.stakeOf(minerHk(2), minerColdkey, 2), 3e9, "nothing delivered is stranded");

        bytes32 stray = keccak256("emissions");
        staking.setStake(stray, vault, 3, 5e7);
        staking.setStake(stray, vault, 4, 1e3); // 1e3 rao of TAO: dust
        Sweep memory s;
        s.positions = new Position[](2);
        s.positions[0] = Position({netuid: 3, hotkey: stray, amount: 5e7});
        s.positions[1] = Position({netuid: 4, hotkey: stray, amount: 1e3});
        s.signerSetVersion = t.signerSetVersion();
        bytes[] memory ssigs = _sweepSigs(s);
        (ok,) = address(t).call{gas: 5_000_000}(abi.encodeCall(t.sweep, (s, ssigs)));
        assertTrue(ok, "one dust position blocked the sweep");
        assertEq(_fundStake(3), 5e7, "the rest is swept");
        assertEq(staking.stakeOf(stray, vault, 4), 1e3, "the dust waits for a later sweep");
    }
}
